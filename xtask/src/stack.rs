//! The stack depth of one call of the button's entry point, `device_model::Button::handle`
//! (figure m7 of `cargo xtask bench`): a static analysis, not a timed run.
//!
//! 1. Build `device-model`'s example `stack_root` (a binary that links `Button::handle`)
//!    in release with nightly's `-Z emit-stack-sizes` (and a static relocation model, so
//!    that calls are direct): LLVM records each function's frame size in the
//!    `.stack_sizes` ELF section (read with `llvm-readobj --stack-sizes`).
//! 2. Take the call graph from the disassembly (`objdump -d`): every `call` or jump to
//!    the start of another function is an edge.
//! 3. The depth of a function is its frame, plus 8 bytes of return address, plus the
//!    deepest of its callees; the figure is the root's.
//!
//! What it does not see, said with the figure: frames of std, alloc and libc (they
//! are prebuilt without `-Z emit-stack-sizes`, so they count 0), and indirect calls
//! (through a pointer or a vtable: formatting, `dyn` calls), which are counted, not
//! followed. Recursion would make the depth unbounded: a cycle is reported, its back
//! edge not followed. The figure is for x86-64 host code, not the MCU's (Thumb-2 frames
//! are smaller; no target for it is installed, and none is downloaded). Without a
//! nightly toolchain, `llvm-readobj` or `objdump` the figure is skipped with a notice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _};

/// The function whose calls are measured (demangled, as `objdump -C` prints it).
const ROOT: &str = "<device_model::button::Button>::handle";

/// The target analysed: this machine's (its std is installed; no other is downloaded).
const HOST: &str = "x86_64-unknown-linux-gnu";

/// Pairing's functions (the X25519 key agreement: once per bond, while the wearer
/// confirms a code), left out of the second figure.
pub const PAIRING: &str = "<protocol::pairing::";

/// Return address pushed by each `call` (x86-64).
const RETURN_ADDRESS: u64 = 8;

/// The result of the analysis.
#[derive(Debug)]
pub struct StackDepth {
    /// Bytes of the deepest path from the root.
    pub bytes: u64,
    /// That path, root first: (function, its frame in bytes or `None` when unknown).
    pub path: Vec<(String, Option<u64>)>,
    /// Functions reachable from the root.
    pub reachable: usize,
    /// Of those, how many have no recorded frame (std, alloc, libc: counted as 0).
    pub unknown: usize,
    /// Indirect calls in reachable functions (not followed).
    pub indirect: usize,
    /// Call cycles met (recursion; back edges not followed).
    pub cycles: usize,
}

/// Why the figure is not given on this machine, or the figure.
pub enum Outcome {
    /// Measured: every path, and every path but pairing's.
    Measured([StackDepth; 2]),
    /// A tool is missing (printed as a notice, not an error).
    Skipped(String),
}

/// Build the root binary with `-Z emit-stack-sizes` under `target/stack` and analyse it.
pub fn measure(target: &Path) -> anyhow::Result<Outcome> {
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        return Ok(Outcome::Skipped(format!("the analysis reads {HOST} code")));
    }
    for (tool, args) in [
        ("cargo", &["+nightly", "--version"][..]),
        ("llvm-readobj", &["--version"][..]),
        ("objdump", &["--version"][..]),
    ] {
        let ok = Command::new(tool)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return Ok(Outcome::Skipped(format!(
                "`{tool} {}` is not available (the analysis needs a nightly toolchain, llvm-readobj and objdump)",
                args.join(" ")
            )));
        }
    }
    let dir = target.join("stack");
    // A non-PIE executable, so that calls between crates are direct (`call <f>`, not
    // through the GOT); `--target` keeps the flags off build scripts and proc macros.
    let status = Command::new("cargo")
        .args(["+nightly", "build", "-q", "--release", "-p", "device-model"])
        .args(["--example", "stack_root", "--target", HOST])
        .env(
            "RUSTFLAGS",
            "-Z emit-stack-sizes -C relocation-model=static",
        )
        .env("CARGO_TARGET_DIR", &dir)
        .status()
        .context("running cargo +nightly build")?;
    if !status.success() {
        bail!("cargo +nightly build of device-model's example stack_root failed");
    }
    let bin = dir.join(HOST).join("release/examples/stack_root");
    let sizes = frame_sizes(&run("llvm-readobj", &["-C", "--stack-sizes"], &bin)?)?;
    let graph = call_graph(&run("objdump", &["-d", "-C", "--no-show-raw-insn"], &bin)?);
    Ok(Outcome::Measured([
        analyse(&sizes, &graph, &[])?,
        analyse(&sizes, &graph, &[PAIRING])?,
    ]))
}

/// Run `tool args bin`; its standard output.
fn run(tool: &str, args: &[&str], bin: &Path) -> anyhow::Result<String> {
    let out = Command::new(tool)
        .args(args)
        .arg(bin)
        .output()
        .with_context(|| format!("running {tool}"))?;
    if !out.status.success() {
        bail!("{tool} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Frame size of each function from `llvm-readobj --stack-sizes` (entries of
/// `Functions: [a, b]` then `Size: 0x..`; a name met twice keeps its largest frame).
fn frame_sizes(text: &str) -> anyhow::Result<BTreeMap<String, u64>> {
    let mut sizes = BTreeMap::new();
    let mut names: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(list) = line
            .strip_prefix("Functions: [")
            .and_then(|l| l.strip_suffix(']'))
        {
            // Demangled names hold ", " inside generics: split only at depth 0.
            names = split_top(list);
        } else if let Some(hex) = line.strip_prefix("Size: 0x") {
            let size = u64::from_str_radix(hex, 16)
                .with_context(|| format!("llvm-readobj: bad size {line:?}"))?;
            for n in names.drain(..) {
                let e = sizes.entry(n).or_insert(0);
                *e = size.max(*e);
            }
        }
    }
    if sizes.is_empty() {
        bail!("llvm-readobj found no .stack_sizes entries (was -Z emit-stack-sizes applied?)");
    }
    Ok(sizes)
}

/// Split `a, b<c, d>, e` at the commas outside brackets.
fn split_top(list: &str) -> Vec<String> {
    let (mut out, mut depth, mut cur) = (Vec::new(), 0i32, String::new());
    for ch in list.chars() {
        match ch {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    out.push(cur.trim().to_string());
    out
}

/// One function of the disassembly: whom it calls (or tail-calls) directly, and how
/// many indirect calls it makes.
#[derive(Debug, Default)]
struct Calls {
    direct: BTreeSet<String>,
    indirect: usize,
}

/// The call graph from `objdump -d -C`: `addr <name>:` opens a function; a `call` or
/// jump to `<other>` (no `+0x` offset: the start of a function) is an edge.
fn call_graph(text: &str) -> BTreeMap<String, Calls> {
    let mut graph: BTreeMap<String, Calls> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(name) = line
            .split_once(" <")
            .filter(|(addr, _)| addr.chars().all(|c| c.is_ascii_hexdigit()))
            .and_then(|(_, rest)| rest.strip_suffix(">:"))
        {
            current = Some(name.to_string());
            graph.entry(name.to_string()).or_default();
            continue;
        }
        let (Some(f), Some((_, insn))) = (&current, line.split_once(":\t")) else {
            continue;
        };
        let mnemonic = insn.split_whitespace().next().unwrap_or("");
        let is_call = mnemonic.starts_with("call");
        if !(is_call || mnemonic.starts_with('j')) {
            continue;
        }
        let calls = graph.entry(f.clone()).or_default();
        if is_call && insn.contains('*') {
            calls.indirect += 1;
            continue;
        }
        let target = insn
            .find('<')
            .and_then(|i| insn.get(i + 1..))
            .and_then(|t| t.strip_suffix('>'));
        if let Some(t) = target.filter(|t| !has_offset(t) && *t != f.as_str()) {
            // `name@plt` is libc's (memcpy, ...): unknown frame.
            calls.direct.insert(t.to_string());
        }
    }
    graph
}

/// Whether an objdump target is `name+0x..` (inside a function, not its start).
fn has_offset(target: &str) -> bool {
    target
        .rsplit_once("+0x")
        .is_some_and(|(_, hex)| hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The deepest path from [`ROOT`], not entering functions whose names start with one
/// of `skip`.
fn analyse(
    sizes: &BTreeMap<String, u64>,
    graph: &BTreeMap<String, Calls>,
    skip: &[&str],
) -> anyhow::Result<StackDepth> {
    if !graph.contains_key(ROOT) {
        bail!("{ROOT} is not in the disassembly of stack_root");
    }
    let mut walk = Walk {
        sizes,
        graph,
        memo: BTreeMap::new(),
        on_path: BTreeSet::new(),
        cycles: 0,
        skip,
    };
    let bytes = walk.depth(ROOT);
    let mut path = Vec::new();
    let mut at = Some(ROOT.to_string());
    while let Some(f) = at {
        path.push((f.clone(), sizes.get(&f).copied()));
        at = walk.memo.get(&f).and_then(|(_, next)| next.clone());
    }
    let reachable: Vec<&String> = walk.memo.keys().collect();
    Ok(StackDepth {
        bytes,
        path,
        reachable: reachable.len(),
        unknown: reachable
            .iter()
            .filter(|f| !sizes.contains_key(**f))
            .count(),
        indirect: reachable
            .iter()
            .filter_map(|f| graph.get(*f))
            .map(|c| c.indirect)
            .sum(),
        cycles: walk.cycles,
    })
}

/// Depth-first search with memo: depth of each function and the callee it goes through.
struct Walk<'a> {
    sizes: &'a BTreeMap<String, u64>,
    graph: &'a BTreeMap<String, Calls>,
    memo: BTreeMap<String, (u64, Option<String>)>,
    on_path: BTreeSet<String>,
    cycles: usize,
    skip: &'a [&'a str],
}

impl Walk<'_> {
    fn depth(&mut self, f: &str) -> u64 {
        if let Some((d, _)) = self.memo.get(f) {
            return *d;
        }
        if !self.on_path.insert(f.to_string()) {
            self.cycles += 1;
            return 0;
        }
        let own = self.sizes.get(f).copied().unwrap_or(0) + RETURN_ADDRESS;
        let mut best: (u64, Option<String>) = (0, None);
        let callees: Vec<String> = self
            .graph
            .get(f)
            .map(|c| c.direct.iter().cloned().collect())
            .unwrap_or_default();
        let callees = callees
            .into_iter()
            .filter(|c| !self.skip.iter().any(|s| c.starts_with(s)));
        for c in callees {
            let d = self.depth(&c);
            if d > best.0 {
                best = (d, Some(c));
            }
        }
        self.on_path.remove(f);
        let total = own + best.0;
        self.memo.insert(f.to_string(), (total, best.1));
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deepest_path_adds_frames_and_return_addresses() {
        let sizes = frame_sizes(
            "StackSizes [\n  Entry {\n    Functions: [<device_model::button::Button>::handle]\n    Size: 0x40\n  }\n  Entry {\n    Functions: [a::<b, c>, d]\n    Size: 0x10\n  }\n]",
        )
        .unwrap();
        assert_eq!(sizes.get("a::<b, c>"), Some(&0x10));
        assert_eq!(sizes.get("d"), Some(&0x10));
        let graph = call_graph(
            "0000000000001000 <<device_model::button::Button>::handle>:\n    1000:\tcall   2000 <a::<b, c>>\n    1005:\tcall   *%rax\n    100a:\tjne    1000 <<device_model::button::Button>::handle+0x3>\n    1010:\tjmp    3000 <memcpy@plt>\n\n0000000000002000 <a::<b, c>>:\n    2000:\tcall   4000 <d>\n\n0000000000004000 <d>:\n    4000:\tcall   2000 <a::<b, c>>\n",
        );
        let r = analyse(&sizes, &graph, &[]).unwrap();
        // handle (0x40 + 8) → a (0x10 + 8) → d (0x10 + 8); d → a is a cycle.
        assert_eq!(r.bytes, 0x40 + 0x10 + 0x10 + 3 * 8);
        assert_eq!(r.path.len(), 3);
        assert_eq!((r.indirect, r.cycles, r.unknown), (1, 1, 1));
        assert_eq!(r.reachable, 4);
        let r = analyse(&sizes, &graph, &["a::"]).unwrap();
        assert_eq!(
            (r.bytes, r.reachable),
            (0x40 + 8 + 8, 2),
            "only memcpy@plt left"
        );
    }
}
