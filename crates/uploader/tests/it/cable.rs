//! A TCP cable between the client and a server that a test can cut and mend:
//! cut, nothing listens on its port any more (connections are refused) and
//! the connections through it are closed, as when the server goes away.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub struct Cable {
    addr: SocketAddr,
    target: Mutex<Option<SocketAddr>>,
    /// The accepting task and every connection's task.
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Cable {
    /// Binds a port (its URL is known before the server it leads to starts).
    pub async fn bind() -> (Cable, TcpListener) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let cable = Cable {
            addr: listener.local_addr().unwrap(),
            target: Mutex::new(None),
            tasks: Arc::default(),
        };
        (cable, listener)
    }

    /// `http://127.0.0.1:<port>` of the cable's end.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Forwards every connection `listener` accepts to `base_url`'s host.
    pub fn plug(&self, listener: TcpListener, base_url: &str) {
        let target: SocketAddr = base_url.trim_start_matches("http://").parse().unwrap();
        *self.target.lock().unwrap() = Some(target);
        let tasks = self.tasks.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(conn.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accepting.abort_handle());
    }

    /// Closes the port and every connection through the cable.
    pub fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Listens on the same port again and forwards as before.
    pub async fn mend(&self) {
        let target = self.target.lock().unwrap().unwrap();
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.plug(listener, &format!("http://{target}"));
    }
}
