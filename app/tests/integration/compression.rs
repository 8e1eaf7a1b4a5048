//! Content codings on the wire: what each `Accept-Encoding` gets, that every coding decodes to
//! the identity body, that a 50-event page shrinks to at most a quarter, and revalidation.

use crate::support::{Harness, eventually, generated_events};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY};
use std::io::Read;
use std::time::Duration;

fn decode(coding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "zstd" => out = zstd::decode_all(body).unwrap(),
        "br" => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        other => panic!("unexpected coding {other}"),
    }
    out
}

#[tokio::test]
async fn each_accepted_coding_decodes_to_the_identity_page_at_a_quarter_of_its_size() {
    let h = Harness::new().await;
    h.migrate().await;
    let ingest = h.ingest(&[]).await;
    h.pubsub.publish_events(&generated_events(60, 5)).await;
    eventually("events stored", Duration::from_secs(60), || async {
        (h.db.count_events().await == 60).then_some(())
    })
    .await;
    drop(ingest);
    let api = h.serve(&[]).await;
    let client = api.client();
    let url = format!("{}/v1/events?limit=50", api.http);
    let get = |accept: Option<&'static str>, etag: Option<String>| {
        let mut request = client.get(&url);
        if let Some(accept) = accept {
            request = request.header(ACCEPT_ENCODING, accept);
        }
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        request.send()
    };

    let identity = get(None, None).await.unwrap();
    assert_eq!(identity.status(), 200);
    assert!(identity.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(identity.headers()[VARY], "accept-encoding");
    let identity_etag = identity.headers()[ETAG].to_str().unwrap().to_string();
    let plain = identity.bytes().await.unwrap();

    for (accept, coding) in [
        ("gzip, deflate, br, zstd", "zstd"),
        ("gzip, br", "br"),
        ("gzip", "gzip"),
        ("br;q=0.5, gzip;q=0.9", "gzip"),
    ] {
        let response = get(Some(accept), None).await.unwrap();
        assert_eq!(response.status(), 200, "{accept}");
        assert_eq!(response.headers()[CONTENT_ENCODING], coding, "{accept}");
        assert_eq!(response.headers()[VARY], "accept-encoding");
        let etag = response.headers()[ETAG].to_str().unwrap().to_string();
        assert_ne!(etag, identity_etag, "each coding has its own tag");
        let body = response.bytes().await.unwrap();
        assert_eq!(decode(coding, &body), plain, "{accept}");
        assert!(
            body.len() * 4 <= plain.len(),
            "{coding}: {} of {} bytes",
            body.len(),
            plain.len()
        );
        // Either tag revalidates: the client holds a current copy of the same body.
        for held in [etag, identity_etag.clone()] {
            let revalidated = get(Some(accept), Some(held)).await.unwrap();
            assert_eq!(revalidated.status(), 304, "{accept}");
            assert!(revalidated.bytes().await.unwrap().is_empty());
        }
    }

    for refused in ["identity", "deflate", "gzip;q=0"] {
        let response = get(Some(refused), None).await.unwrap();
        assert!(
            response.headers().get(CONTENT_ENCODING).is_none(),
            "{refused}"
        );
        assert_eq!(response.bytes().await.unwrap(), plain, "{refused}");
    }

    // A body under the threshold goes out as it is, whatever the client accepts.
    let small = get_small(&client, &api.http).await;
    assert!(small.headers().get(CONTENT_ENCODING).is_none());
}

async fn get_small(client: &reqwest::Client, base_url: &str) -> reqwest::Response {
    let response = client
        .get(format!("{base_url}/v1/events?limit=1"))
        .header(ACCEPT_ENCODING, "zstd, br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response
}
