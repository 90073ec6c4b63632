//! `tcp://host:port`: the check passes when a connection is accepted (then closed at once).

use tokio::net::TcpStream;

/// Connect once; the caller bounds the time.
pub async fn probe(host: &str, port: u16) -> Result<String, String> {
    match TcpStream::connect((host, port)).await {
        Ok(_) => Ok(format!("connected to {}:{}", host, port)),
        Err(e) => Err(format!("connect to {}:{}: {}", host, port, e)),
    }
}
