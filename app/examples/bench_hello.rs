//! Benchmark ceiling: the smallest axum server, to compare cached reads with. `GET /` answers
//! "ok"; with a BYTES argument it answers a static JSON body of that many bytes instead, so a
//! cached page can also be compared with a server sending the same bytes and doing nothing else.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = match std::env::args().nth(1) {
        None => axum::Router::new().route("/", axum::routing::get(|| async { "ok" })),
        Some(bytes) => {
            let body = bytes::Bytes::from(static_json(bytes.parse()?));
            axum::Router::new().route(
                "/",
                axum::routing::get(move || {
                    let body = body.clone();
                    async move { ([("content-type", "application/json")], body) }
                }),
            )
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// A JSON string of exactly `len` bytes (at least 2).
fn static_json(len: usize) -> Vec<u8> {
    let mut body = vec![b'x'; len.max(2)];
    body[0] = b'"';
    body[len.max(2) - 1] = b'"';
    body
}
