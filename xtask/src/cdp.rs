//! A minimal Chrome DevTools Protocol driver over a local WebSocket, with the standard
//! library only: headless Chromium is started with `--remote-debugging-port=0`, the page
//! target is found through `/json/list`, and commands are sent as JSON text frames.
//!
//! Enough for the browser test: open a page, wait (in real time) until an expression is
//! non-empty, collect uncaught exceptions, `console.error` calls and error log entries,
//! and take a screenshot. Nothing leaves the machine (127.0.0.1 only).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

/// A headless Chromium with one page under control.
pub(crate) struct Browser {
    child: Child,
    ws: TcpStream,
    next_id: u64,
    /// Errors the page reported: exceptions, `console.error`, error log entries.
    pub errors: Vec<String>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_get(port: u16, path: &str) -> anyhow::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    // The DevTools server may keep the connection open: read the head, then exactly
    // Content-Length bytes.
    let mut r = BufReader::new(s);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

impl Browser {
    /// Start `chromium` headless on `url` with a window of `w`×`h`.
    pub(crate) fn open(chromium: &Path, url: &str, w: u32, h: u32) -> anyhow::Result<Self> {
        let mut child = Command::new(chromium)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
                &format!("--window-size={w},{h}"),
                url,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting chromium")?;
        let stderr = child.stderr.take().context("chromium's stderr")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("DevTools listening on ws://127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = tx.send(port);
                }
            }
        });
        let port: u16 = rx
            .recv_timeout(Duration::from_secs(60))
            .context("chromium did not open its DevTools port within 60 s")?
            .parse()?;
        let ws_url = Self::page_target(port)?;
        let path = ws_url
            .split_once(&format!("127.0.0.1:{port}"))
            .map(|(_, p)| p.to_string())
            .context("page WebSocket address")?;
        let ws = handshake(port, &path)?;
        let mut b = Browser {
            child,
            ws,
            next_id: 0,
            errors: Vec::new(),
        };
        b.call("Runtime.enable", json!({}))?;
        b.call("Log.enable", json!({}))?;
        b.call("Page.enable", json!({}))?;
        Ok(b)
    }

    fn page_target(port: u16) -> anyhow::Result<String> {
        let start = Instant::now();
        loop {
            let list: Value =
                serde_json::from_str(&http_get(port, "/json/list")?).unwrap_or(Value::Null);
            let page = list.as_array().and_then(|l| {
                l.iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            });
            if let Some(u) = page {
                return Ok(u.to_string());
            }
            if start.elapsed() > Duration::from_secs(30) {
                bail!("no page target in chromium");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Send a command and wait for its result; events read meanwhile are kept.
    pub(crate) fn call(&mut self, method: &str, params: Value) -> anyhow::Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        send_text(&mut self.ws, msg.as_bytes())?;
        loop {
            let m: Value = serde_json::from_slice(&read_message(&mut self.ws)?)?;
            if m["id"] == id {
                if let Some(e) = m.get("error") {
                    bail!("{method}: {e}");
                }
                return Ok(m["result"].clone());
            }
            self.event(&m);
        }
    }

    fn event(&mut self, m: &Value) {
        let p = &m["params"];
        match m["method"].as_str() {
            Some("Runtime.exceptionThrown") => {
                let d = &p["exceptionDetails"];
                let text = d["exception"]["description"]
                    .as_str()
                    .or(d["text"].as_str())
                    .unwrap_or("exception");
                self.errors.push(format!("uncaught: {text}"));
            }
            Some("Runtime.consoleAPICalled") if p["type"] == "error" => {
                let args: Vec<String> = p["args"]
                    .as_array()
                    .map(|a| a.iter().map(|v| v["value"].to_string()).collect())
                    .unwrap_or_default();
                self.errors
                    .push(format!("console.error: {}", args.join(" ")));
            }
            Some("Log.entryAdded") if p["entry"]["level"] == "error" => {
                self.errors.push(format!(
                    "log: {}",
                    p["entry"]["text"].as_str().unwrap_or("")
                ));
            }
            _ => {}
        }
    }

    /// Evaluate `expr` every 200 ms until it gives a non-empty string (its value), for at
    /// most `timeout`.
    pub(crate) fn wait_for(&mut self, expr: &str, timeout: Duration) -> anyhow::Result<String> {
        let start = Instant::now();
        loop {
            let r = self.call(
                "Runtime.evaluate",
                json!({"expression": expr, "returnByValue": true}),
            )?;
            if let Some(s) = r["result"]["value"].as_str().filter(|s| !s.is_empty()) {
                return Ok(s.to_string());
            }
            if start.elapsed() > timeout {
                bail!("`{expr}` still empty after {} s", timeout.as_secs());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A PNG of the viewport.
    pub(crate) fn screenshot(&mut self) -> anyhow::Result<Vec<u8>> {
        use base64::Engine as _;
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}))?;
        let b64 = r["data"].as_str().context("screenshot data")?;
        Ok(base64::engine::general_purpose::STANDARD.decode(b64)?)
    }
}

/// Open a WebSocket to `path` on the local DevTools port.
fn handshake(port: u16, path: &str) -> anyhow::Result<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    if !head.starts_with("HTTP/1.1 101") {
        bail!("WebSocket handshake refused: {head}");
    }
    Ok(s)
}

/// One masked text frame (a client must mask).
fn send_text(s: &mut TcpStream, payload: &[u8]) -> anyhow::Result<()> {
    let mut f = vec![0x81u8];
    let n = payload.len();
    if n < 126 {
        f.push(0x80 | n as u8);
    } else if n <= 0xFFFF {
        f.push(0x80 | 126);
        f.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        f.push(0x80 | 127);
        f.extend_from_slice(&(n as u64).to_be_bytes());
    }
    let mask = [0x12u8, 0x34, 0x56, 0x78];
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    s.write_all(&f)?;
    Ok(())
}

/// One whole message (continuation frames joined; pings and pongs skipped).
fn read_message(s: &mut TcpStream) -> anyhow::Result<Vec<u8>> {
    let mut msg = Vec::new();
    loop {
        let mut h = [0u8; 2];
        s.read_exact(&mut h)?;
        let (fin, op) = (h[0] & 0x80 != 0, h[0] & 0x0F);
        let mut n = u64::from(h[1] & 0x7F);
        if n == 126 {
            let mut e = [0u8; 2];
            s.read_exact(&mut e)?;
            n = u64::from(u16::from_be_bytes(e));
        } else if n == 127 {
            let mut e = [0u8; 8];
            s.read_exact(&mut e)?;
            n = u64::from_be_bytes(e);
        }
        let mut mask = [0u8; 4];
        if h[1] & 0x80 != 0 {
            s.read_exact(&mut mask)?;
        }
        let mut payload = vec![0u8; usize::try_from(n)?];
        s.read_exact(&mut payload)?;
        if h[1] & 0x80 != 0 {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= mask[i % 4];
            }
        }
        match op {
            0x8 => bail!("chromium closed the connection"),
            0x9 | 0xA => continue,
            _ => msg.extend_from_slice(&payload),
        }
        if fin {
            return Ok(msg);
        }
    }
}
