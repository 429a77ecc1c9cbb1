//! The IRSP platform over real HTTPS (`examples/https_platform.rs`, run
//! here as a test): each server knows its callers by their TLS client
//! certificates, and what a caller without the right certificate sends
//! never reaches a server's handler.

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/https_platform.rs"]
mod platform;

#[tokio::test(flavor = "current_thread")]
async fn the_platform_over_https_knows_its_callers_by_certificate() {
    let accepted = platform::run().await.expect("the scenario runs");
    assert_eq!(
        accepted,
        [
            "message accepted message 1",
            "message accepted message 2",
            "application accepted message 9",
            "application accepted message 10",
            "message accepted message 13",
            "account accepted message 7",
        ],
        "nothing refused reached a handler"
    );
}
