//! Benchmark ceiling: the smallest axum server (GET / answers "ok"), to compare cached reads with.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
