//! A real SMTP sink process (Python's `smtpd`, see `smtp_sink.py`) that records the messages it
//! receives, so tests check a whole SMTP conversation rather than a mock.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::Value;

pub struct SmtpSink {
    pub url: String,
    child: Child,
    messages: Arc<Mutex<Vec<Value>>>,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("smtp_sink.py");
        std::fs::write(&script, include_str!("smtp_sink.py")).unwrap();
        let mut child = Command::new("python3")
            .arg("-u")
            .arg(&script)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the SMTP sink");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first: Value = serde_json::from_str(&lines.next().expect("the sink prints its port").unwrap()).unwrap();
        let url = format!("smtp://127.0.0.1:{}", first["port"]);
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = messages.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.lock().unwrap().push(v);
                }
            }
        });
        Self { url, child, messages, _dir: dir }
    }

    /// Waits up to `secs` for `n` messages.
    pub async fn wait_messages(&self, n: usize, secs: u64) -> Vec<Value> {
        for _ in 0..secs * 20 {
            let got = self.messages.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("expected {n} emails, got {}", self.messages.lock().unwrap().len());
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
