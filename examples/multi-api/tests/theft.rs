//! Theft detection through the demo, as a black box over real HTTP, with the memory store
//! and with a Redis of the test's own: a thief rotates a stolen refresh token 34 and then
//! 100 times; the victim's original token is then theft (401 `token theft detected`), the
//! thief's newest token is dead, and the demo logs a warning. Before the family secret, the
//! store remembered 32 rotated-away tokens, and 34 rotations outran it.

mod common;

use common::Demo;
use tower_session_testkit::redis::OwnRedis;

fn chain_then_original(demo: &Demo, rotations: usize) {
    let (_, original) = demo.sign_in("victim");
    let mut newest = original.clone();
    for i in 0..rotations {
        let reply = demo.refresh(&newest);
        assert_eq!(reply.status, 200, "thief's rotation {i}: {reply:?}");
        newest = reply
            .header("st-refresh-token")
            .expect("a new refresh token")
            .to_owned();
    }
    let reply = demo.refresh(&original);
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_eq!(
        reply.message(),
        "token theft detected",
        "the victim's original token after {rotations} rotations"
    );
    let reply = demo.refresh(&newest);
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_eq!(
        reply.message(),
        "unauthorised",
        "the thief's newest token is dead"
    );
}

fn check(demo: &Demo) {
    for rotations in [34, 100] {
        chain_then_original(demo, rotations);
    }
    let log = demo.wait_for_stderr(|log| log.matches("refresh token theft detected").count() >= 2);
    assert_eq!(
        log.matches("refresh token theft detected").count(),
        2,
        "one warning per theft: {log}"
    );
    assert!(log.contains("WARN"), "{log}");
}

#[test]
fn the_demo_detects_theft_after_any_number_of_rotations_in_memory() {
    check(&Demo::start(&[]));
}

#[test]
fn the_demo_detects_theft_after_any_number_of_rotations_on_redis() {
    let mut redis = OwnRedis::new();
    redis.start();
    let url = redis.url();
    check(&Demo::start(&["--store", &url]));
}
