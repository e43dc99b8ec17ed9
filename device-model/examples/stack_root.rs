//! The root of the static stack-depth analysis (`cargo xtask bench`, figure m7): a
//! binary that links [`Button::handle`] — one call of the button's entry point — so
//! that its code and everything it can call is in one executable. Built with nightly's
//! `-Z emit-stack-sizes`; never run by the analysis (running it only boots a button and
//! hands it one input).

use device_model::{Button, DeviceProfile, Flash, Input};

fn main() {
    let p = DeviceProfile::default();
    let battery = Button::fresh_battery(&p, 100.0);
    let mut b = Button::boot(p, Flash::factory(), battery, 0, [9; 32]);
    // Through an opaque pointer: the entry point stays a function of its own.
    let handle: fn(&mut Button, u64, Input) = std::hint::black_box(Button::handle);
    handle(&mut b, 1, Input::Edge { down: true });
}
