//! btsnoop captures of a scenario's BLE traffic, at the virtual host/controller
//! boundary: HCI H4 packets (datalink 1002), ACL data on L2CAP channel 4 (ATT), so that
//! Wireshark or `tshark -Y btatt` decodes the indications, writes and confirmations.
//!
//! Format: the 16-byte header `btsnoop\0`, version 1, datalink 1002; then per packet:
//! original length, included length, flags (bit 0: received by the host), cumulative
//! drops, and a timestamp in microseconds since 0 AD (big-endian throughout).

use std::io::Write;
use std::path::Path;

use crate::link::Dir;
use crate::simulation::{Simulation, EPOCH_UTC_MS};
use crate::WorldError;

/// Microseconds between 0 AD and the Unix epoch, as btsnoop counts.
const BTSNOOP_EPOCH_DELTA_US: u64 = 0x00dc_ddb3_0f2f_8000;
/// The ACL connection handle used for the button.
const ACL_HANDLE: u16 = 0x0040;

/// Encode the capture of a simulation.
pub fn btsnoop_bytes(sim: &Simulation) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"btsnoop\0");
    out.extend_from_slice(&1u32.to_be_bytes());
    out.extend_from_slice(&1002u32.to_be_bytes());
    for pdu in sim.air.capture() {
        // H4: 0x02 ACL; ACL header: handle + PB flags (first automatically flushable), length;
        // L2CAP header: length, CID 0x0004 (ATT).
        let l2cap_len = pdu.att.len() as u16;
        let mut pkt = vec![0x02];
        pkt.extend_from_slice(&(ACL_HANDLE | 0x2000).to_le_bytes());
        pkt.extend_from_slice(&(l2cap_len + 4).to_le_bytes());
        pkt.extend_from_slice(&l2cap_len.to_le_bytes());
        pkt.extend_from_slice(&0x0004u16.to_le_bytes());
        pkt.extend_from_slice(&pdu.att);
        // The host is the phone: packets towards the phone are "received".
        let flags: u32 = if pdu.dir == Dir::ToPhone { 1 } else { 0 };
        let ts = BTSNOOP_EPOCH_DELTA_US + EPOCH_UTC_MS * 1000 + pdu.t_us;
        out.extend_from_slice(&(pkt.len() as u32).to_be_bytes());
        out.extend_from_slice(&(pkt.len() as u32).to_be_bytes());
        out.extend_from_slice(&flags.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&ts.to_be_bytes());
        out.extend_from_slice(&pkt);
    }
    out
}

/// Write the capture of a simulation to `path`.
pub fn write_btsnoop(path: &Path, sim: &Simulation) -> Result<(), WorldError> {
    let io = |e: std::io::Error| WorldError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut f = std::fs::File::create(path).map_err(io)?;
    f.write_all(&btsnoop_bytes(sim)).map_err(io)
}
