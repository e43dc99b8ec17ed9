//! Hardware in the loop (feature `hil`): the btleplug adapter of the GATT-client port.

/// Errors of hardware-in-the-loop runs.
#[derive(Debug, thiserror::Error)]
pub enum HilError {
    /// No usable Bluetooth adapter.
    #[error("no Bluetooth adapter: {0}")]
    NoAdapter(String),
}
