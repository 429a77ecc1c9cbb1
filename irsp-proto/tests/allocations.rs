//! How many heap blocks reading Message 2 (device registration, 8.2.1)
//! from its URL takes: counted with dhat's allocator, in a test binary of
//! its own so that no other test allocates at the same time. The count is
//! documented here and the test fails when it changes: a new allocation on
//! this path is a regression to look at, a removed one is a number to
//! update.

#![allow(clippy::unwrap_used)]

mod common;
use common::routes;

use irsp_proto::{
    AccountAuth, AdditionalParams, DeviceAccount, DeviceName, Limits, Request, Secret, ServerRole,
};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// The blocks reading Message 2 allocates today, 16: the list of the
/// query's parameters, each value with an escape decoded into a string of
/// its own (`name`, `password`, `vendor`, `location`), each string of the
/// message that the query lent until then made owned (`appid`, `token`,
/// `verifycode`, `type`, `model`, the additional parameter's name), the
/// additional parameters' list, and the rest in the typed fields' own
/// checks and boxes.
const BLOCKS: u64 = 16;

#[test]
fn message_2_reads_in_a_counted_number_of_blocks() {
    let mut additional = AdditionalParams::new();
    additional.push("location", "living room").unwrap();
    let message = Request::RegisterDevice(DeviceAccount {
        auth: AccountAuth {
            appid: "account-server-1".into(),
            token: Secret::new("9f8e7d6c5b4a"),
        },
        name: DeviceName::new("#igrsdevice").unwrap(),
        password: Secret::new("p&ss w=rd"),
        verifycode: Some(Secret::new("482913")),
        device_type: Some("television".into()),
        vendor: Some("IGRS Lab".into()),
        model: Some("TV-55".into()),
        additional,
    });
    let routes = routes();
    let url = message.to_url(&"www.igrslab.com:8080".parse().unwrap(), &routes);
    let limits = Limits::default();

    let _profiler = dhat::Profiler::builder().testing().build();
    let before = dhat::HeapStats::get();
    let read = Request::parse_url(&url, ServerRole::Message, &routes, &limits).unwrap();
    let blocks = dhat::HeapStats::get().total_blocks - before.total_blocks;
    assert_eq!(read, message);
    dhat::assert_eq!(blocks, BLOCKS, "heap blocks reading Message 2");
}
