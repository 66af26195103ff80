//! The demo on a Redis Cluster of the test's own (3 masters + 3 replicas,
//! `tower_session_testkit::redis::OwnCluster`), as a black box over real HTTP: two
//! processes on one cluster behave as one; 50 users refreshing across two processes while a
//! master is killed (`SIGKILL`) see only 503s, and after the failover every one of them
//! refreshes and calls api2 (nobody signed out); a bad `redis-cluster://` URL exits 2
//! naming the flag.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Demo, Reply};
use tower_session_testkit::redis::OwnCluster;

fn seed_url(cluster: &OwnCluster) -> String {
    let nodes: Vec<String> = cluster
        .urls()
        .iter()
        .map(|u| u.trim_start_matches("redis://").to_owned())
        .collect();
    format!("redis-cluster://{}", nodes.join(","))
}

fn session_info(demo: &Demo, host: &str, access: &str) -> Reply {
    demo.request(
        "GET",
        host,
        "/sessioninfo",
        &[("authorization", &format!("Bearer {access}"))],
        "",
    )
}

fn tokens(reply: &Reply) -> (String, String) {
    (
        reply.header("st-access-token").expect("access").to_owned(),
        reply
            .header("st-refresh-token")
            .expect("refresh")
            .to_owned(),
    )
}

#[test]
fn two_processes_on_one_cluster_behave_as_one() {
    let cluster = OwnCluster::start();
    let url = seed_url(&cluster);
    let a = Demo::start(&["--store", &url]);
    let b = Demo::start(&["--store", &url]);

    let (access, rt0) = a.sign_in("alice");
    let reply = session_info(&b, "api2.example.test", &access);
    assert_eq!(reply.status, 200, "B verifies A's token: {reply:?}");
    let reply = b.refresh(&rt0);
    assert_eq!(reply.status, 200, "{reply:?}");
    let (_, rt1) = tokens(&reply);
    let reply = a.refresh(&rt1);
    assert_eq!(reply.status, 200, "{reply:?}");
    let (_, rt2) = tokens(&reply);

    // The original token comes back on B: theft, seen across processes.
    let reply = b.refresh(&rt0);
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_eq!(reply.message(), "token theft detected", "{reply:?}");
    let reply = a.refresh(&rt2);
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_eq!(reply.message(), "unauthorised", "revoked for A too");
}

#[test]
fn a_killed_master_signs_none_of_50_users_out() {
    let mut cluster = OwnCluster::start();
    let url = seed_url(&cluster);
    let demos = [
        Demo::start(&["--store", &url]),
        Demo::start(&["--store", &url]),
    ];
    // 50 users, signed in on either process: (access, refresh) each.
    let mut users: Vec<(String, String)> = (0..50)
        .map(|i| demos[i % 2].sign_in(&format!("user{i}")))
        .collect();

    // One round: every user refreshes on one process and calls api2 on the other with the
    // new access token. A 503 keeps the old tokens (the client retries); anything else
    // but 200 is a failure. The number of 503s.
    let round = |n: usize, users: &mut Vec<(String, String)>| -> usize {
        let mut unavailable = 0;
        for (i, (access, refresh)) in users.iter_mut().enumerate() {
            let on = &demos[(i + n) % 2];
            let reply = on.refresh(refresh);
            match reply.status {
                200 => {
                    (*access, *refresh) = tokens(&reply);
                    let other = &demos[(i + n + 1) % 2];
                    let api2 = session_info(other, "api2.example.test", access);
                    assert_eq!(api2.status, 200, "user{i} on api2: {api2:?}");
                }
                503 => {
                    assert!(
                        reply.headers("set-cookie").is_empty()
                            && reply.header("st-refresh-token").is_none(),
                        "a 503 cleared or replaced tokens: {reply:?}"
                    );
                    unavailable += 1;
                }
                _ => panic!("user{i} signed out in round {n}: {reply:?}"),
            }
        }
        unavailable
    };

    let mut n = 0;
    for _ in 0..2 {
        n += 1;
        assert_eq!(round(n, &mut users), 0, "503s before the failover");
    }
    // Kill the master of some slot (one third of the sessions, roughly).
    let victim = "user-victim";
    let slot = cluster.slot_of(victim);
    let killed = cluster.kill_master_of(victim);
    let killed_at = Instant::now();
    let mut unavailable = 0;
    loop {
        n += 1;
        unavailable += round(n, &mut users);
        if cluster.master_of_slot(slot).is_some_and(|p| p != killed) {
            break;
        }
        assert!(killed_at.elapsed() < Duration::from_secs(30), "no failover");
    }
    cluster.wait_for_failover(slot, Duration::from_secs(30));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        n += 1;
        let failing = round(n, &mut users);
        unavailable += failing;
        if failing == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{failing} users still get 503s");
        std::thread::sleep(Duration::from_millis(200));
    }
    n += 1;
    assert_eq!(
        round(n, &mut users),
        0,
        "every user refreshes after the failover"
    );
    eprintln!("failover: {unavailable} refreshes answered 503, none 401, in {n} rounds");
}

#[test]
fn a_bad_redis_cluster_url_exits_2_with_one_line_naming_the_flag() {
    for bad in [
        "redis-cluster://",
        "redis-cluster://127.0.0.1",
        "redis-cluster://127.0.0.1:7000,",
        "redis-cluster://u:hunter2-secret@127.0.0.1:7000",
        "redis-cluster://bad host:7000",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_multi-api-demo"))
            .args(["--listen", "127.0.0.1:0", "--store", bad])
            .stdin(Stdio::null())
            .output()
            .expect("run the demo");
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{bad}: {stderr}");
        assert!(stderr.contains("--store"), "{bad}: {stderr}");
        assert!(!stderr.contains("secret"), "no password echoed: {stderr}");
    }
}
