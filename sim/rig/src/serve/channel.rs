//! Where the served button's inputs come from on a real machine: [`InboxWall`], the
//! wall clock of the paced loop whose waits end when an input arrives, and the control
//! channel's readers (standard input, or a local Unix socket answering `ok` or
//! `error: …` to each line).

use std::io::{BufRead, BufReader, Write as _};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use sim_world::sched::{Micros, Pace};

use super::control::Control;
use super::host::{HostInput, Wall};

/// The longest single wait: the loop looks around at least this often.
const MAX_WAIT: Duration = Duration::from_secs(1);

/// The wall clock (started at creation) and the inbox of a serve run.
#[derive(Debug)]
pub struct InboxWall {
    start: Instant,
    rx: Receiver<HostInput>,
    got: Vec<HostInput>,
}

impl InboxWall {
    /// A wall clock starting now, reading inputs from `rx`.
    pub fn new(rx: Receiver<HostInput>) -> Self {
        InboxWall {
            start: Instant::now(),
            rx,
            got: Vec::new(),
        }
    }
}

impl Pace for InboxWall {
    fn elapsed_us(&self) -> Micros {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn wait_until(&mut self, at: Option<Micros>) {
        if !self.got.is_empty() {
            return;
        }
        let now = self.elapsed_us();
        let wait = at.map_or(MAX_WAIT, |at| {
            Duration::from_micros(at.saturating_sub(now)).min(MAX_WAIT)
        });
        if wait.is_zero() {
            return;
        }
        match self.rx.recv_timeout(wait) {
            Ok(i) => self.got.push(i),
            Err(RecvTimeoutError::Timeout) => {}
            // Every sender gone: nothing more can arrive; stop serving.
            Err(RecvTimeoutError::Disconnected) => self.got.push(HostInput::Stop),
        }
    }
}

impl Wall for InboxWall {
    fn take_inputs(&mut self) -> Vec<HostInput> {
        while let Ok(i) = self.rx.try_recv() {
            self.got.push(i);
        }
        std::mem::take(&mut self.got)
    }
}

/// Read control commands from standard input, one a line, until it ends (the button
/// keeps being served after that). Errors go to standard error.
pub fn spawn_stdin(tx: Sender<HostInput>) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { return };
            if line.trim().is_empty() {
                continue;
            }
            match Control::parse(&line) {
                Ok(c) => {
                    if tx.send(HostInput::Control(c)).is_err() {
                        return;
                    }
                }
                Err(e) => eprintln!("control: {e}"),
            }
        }
    });
}

/// Listen for control commands on the Unix socket `path` (replaced if it exists): each
/// line is answered `ok` or `error: …`.
pub fn spawn_socket(path: &Path, tx: Sender<HostInput>) -> std::io::Result<PathBuf> {
    if path.exists() {
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let Ok(mut out) = conn.try_clone() else {
                    return;
                };
                for line in BufReader::new(conn).lines() {
                    let Ok(line) = line else { return };
                    let answer = match Control::parse(&line) {
                        Ok(c) => match tx.send(HostInput::Control(c)) {
                            Ok(()) => "ok".to_string(),
                            Err(_) => "error: the button is no longer served".to_string(),
                        },
                        Err(e) => format!("error: {e}"),
                    };
                    if writeln!(out, "{answer}").is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(path.to_path_buf())
}

/// Send one command line to a served button's control socket; its answer.
pub fn send_command(path: &Path, line: &str) -> std::io::Result<String> {
    let mut s = std::os::unix::net::UnixStream::connect(path)?;
    writeln!(s, "{line}")?;
    s.shutdown(std::net::Shutdown::Write)?;
    let mut answer = String::new();
    BufReader::new(s).read_line(&mut answer)?;
    Ok(answer.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_answers_each_line_and_forwards_commands() {
        let dir = std::env::temp_dir().join(format!("sim-serve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join("control.sock");
        let (tx, rx) = std::sync::mpsc::channel();
        spawn_socket(&path, tx).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(send_command(&path, "double").ok().as_deref(), Some("ok"));
        let bad = send_command(&path, "jump").unwrap_or_else(|e| panic!("{e}"));
        assert!(bad.starts_with("error: unknown command `jump`"), "{bad}");
        let mut wall = InboxWall::new(rx);
        wall.wait_until(Some(wall.elapsed_us() + 2_000_000));
        assert_eq!(
            wall.take_inputs(),
            vec![HostInput::Control(Control::Press(2))]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
