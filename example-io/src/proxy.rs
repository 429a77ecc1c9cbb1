//! A TCP proxy on loopback that can cut every connection it carries, as
//! a home router or a mobile link does: for field tests of sessions that
//! must survive their connections (stream management, reconnection).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// A proxy from a loopback port of its own to one server.
#[derive(Debug)]
pub struct CuttingProxy {
    addr: String,
    open: Mutex<Vec<TcpStream>>,
    cuts: AtomicUsize,
}

impl CuttingProxy {
    /// Starts a proxy to `server` on a free loopback port.
    ///
    /// # Errors
    ///
    /// When no port can be had.
    pub fn start(server: &str) -> std::io::Result<Arc<Self>> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let proxy = Arc::new(Self {
            addr: listener.local_addr()?.to_string(),
            open: Mutex::new(Vec::new()),
            cuts: AtomicUsize::new(0),
        });
        let server = server.to_owned();
        let carrier = Arc::clone(&proxy);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(upstream) = TcpStream::connect(&server) else {
                    continue;
                };
                if carrier.carry(client, upstream).is_err() {
                    continue;
                }
            }
        });
        Ok(proxy)
    }

    /// Where clients connect.
    #[must_use]
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// How many times it cut.
    #[must_use]
    pub fn cuts(&self) -> usize {
        self.cuts.load(Ordering::Relaxed)
    }

    /// Cuts every connection: both sockets shut down, nothing more
    /// carried, no stream closed.
    pub fn cut(&self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        for socket in open.drain(..) {
            let _ = socket.shutdown(Shutdown::Both);
        }
        self.cuts.fetch_add(1, Ordering::Relaxed);
    }

    fn carry(&self, client: TcpStream, upstream: TcpStream) -> std::io::Result<()> {
        client.set_nodelay(true)?;
        upstream.set_nodelay(true)?;
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.push(client.try_clone()?);
        open.push(upstream.try_clone()?);
        drop(open);
        pump(client.try_clone()?, upstream.try_clone()?);
        pump(upstream, client);
        Ok(())
    }
}

/// Carries bytes from `from` to `to` until either side ends.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}
