//! `RedisStore` on a real Redis Cluster (3 masters + 3 replicas started by the test,
//! `tower_session_testkit::redis::OwnCluster`): the conformance suite and the model check,
//! every key of a session or user in one slot, `WAIT` on the master that took the write,
//! and a master killed under refreshing sessions without anybody signed out.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use tower_session_redis::{RedisStore, RedisStoreConfig, ReplicaWait, WaitForReplicas};
use tower_session_refresh::store::{
    conformance, NewSession, Presented, PromoteOutcome, RotateOutcome, SessionStore,
};
use tower_session_testkit::{
    model_store::{ops, unique_tag, Run},
    redis::OwnCluster,
};

fn hash(label: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, label.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn later(secs: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(secs)
}

fn new_session(handle: &str, user: &str, refresh: &str) -> NewSession {
    NewSession {
        handle: handle.to_owned(),
        user_id: user.to_owned(),
        tenant_id: "public".to_owned(),
        family_hash: hash("family"),
        refresh_hash: hash(refresh),
        payload: Some(serde_json::Map::from_iter([(
            "role".to_owned(),
            serde_json::json!("admin"),
        )])),
        expires_at: later(3600),
        session_data: serde_json::Map::from_iter([("n".to_owned(), serde_json::json!(1))]),
    }
}

fn unique(what: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{what}-{}-{nanos:x}", std::process::id())
}

async fn cluster_store(cluster: &OwnCluster, config: RedisStoreConfig) -> RedisStore {
    RedisStore::connect_cluster(cluster.urls(), config)
        .await
        .expect("connect to the cluster")
}

/// One cluster for everything that does not kill a node: conformance, the model check,
/// the slot layout, and `WAIT` on the right master.
#[test]
fn cluster_store_conformance_model_slots_and_wait() {
    let cluster = OwnCluster::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    // Conformance suite (scripts, list and revoke_all across nodes, expiry).
    runtime.block_on(async {
        let store = cluster_store(&cluster, RedisStoreConfig::new("conf:")).await;
        assert!(store.is_cluster());
        assert_eq!(store.replica_wait(), Some(ReplicaWait::DEFAULT));
        conformance::run_all(&store).await;
    });

    // Model check, racing refreshes included.
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    });
    runner
        .run(&ops(false), |ops| {
            runtime.block_on(async {
                let tag = unique_tag("model");
                let store = cluster_store(&cluster, RedisStoreConfig::new(format!("{tag}:"))).await;
                let mut run = Run::new(&store, &tag, None);
                for op in &ops {
                    run.step(op).await;
                }
            });
            Ok(())
        })
        .expect("the cluster store follows the rotation model");

    runtime.block_on(slots_of_one_session_and_user(&cluster));
    runtime.block_on(writes_wait_for_the_replica_of_their_master(&cluster));
    runtime.block_on(writes_to_one_master_wait_side_by_side(&cluster));
    runtime.block_on(key_store_on_the_cluster(&cluster));
}

/// Every key a session or user has lives in the slot of its hash tag, sessions of one
/// user spread over several masters, and every operation across them succeeds (no
/// `CROSSSLOT`, no `MOVED` left unanswered).
async fn slots_of_one_session_and_user(cluster: &OwnCluster) {
    let prefix = format!("{}:", unique("slots"));
    let store = cluster_store(cluster, RedisStoreConfig::new(prefix.clone())).await;
    let user = unique("user");
    let handles: Vec<String> = (0..24).map(|i| unique(&format!("h{i}"))).collect();
    for (i, handle) in handles.iter().enumerate() {
        store
            .create(new_session(handle, &user, &format!("{handle}-r0-{i}")))
            .await
            .expect("create on the cluster");
    }
    // Rotate and promote each once, so rotation writes happened too.
    for (i, handle) in handles.iter().enumerate() {
        let parent = hash(&format!("{handle}-r0-{i}"));
        let child = hash(&format!("{handle}-r1"));
        let outcome = store
            .rotate(
                handle,
                Presented {
                    hash: &parent,
                    generation: 0,
                    family_hash: &hash("family"),
                },
                &child,
                later(7200),
            )
            .await
            .expect("rotate");
        assert!(
            matches!(outcome, RotateOutcome::Rotated { .. }),
            "{outcome:?}"
        );
        let promoted = store
            .promote(handle, &parent, &child)
            .await
            .expect("promote");
        assert_eq!(promoted, PromoteOutcome::Promoted);
    }
    let masters: std::collections::BTreeSet<u16> = handles
        .iter()
        .filter_map(|h| cluster.master_of_slot(cluster.slot_of(&store.session_key(h))))
        .collect();
    assert!(
        masters.len() >= 2,
        "24 sessions of one user on {} master(s): the test proves nothing",
        masters.len()
    );

    let keys = cluster.keys(&format!("{prefix}*"));
    assert_eq!(
        keys.len(),
        handles.len() + 1,
        "one hash per session and one user index: {keys:?}"
    );
    for key in &keys {
        let tag = &key[key.find('{').expect("a hash tag") + 1..key.find('}').expect("closed")];
        assert_eq!(
            cluster.slot_of(key),
            cluster.slot_of(tag),
            "{key} is not in the slot of its hash tag"
        );
    }
    for handle in &handles {
        assert_eq!(
            cluster.slot_of(&store.session_key(handle)),
            cluster.slot_of(handle)
        );
    }
    assert_eq!(
        cluster.slot_of(&store.user_key(&user)),
        cluster.slot_of(&user)
    );

    let listed = store.list(&user).await.expect("list across masters");
    assert_eq!(listed.len(), handles.len());
    assert!(store
        .update_payload(&handles[0], serde_json::Map::new())
        .await
        .expect("update"));
    assert!(store.revoke(&handles[0]).await.expect("revoke"));
    let mut revoked = store
        .revoke_all(&user)
        .await
        .expect("revoke_all across masters");
    revoked.sort();
    let mut rest = handles[1..].to_vec();
    rest.sort();
    assert_eq!(revoked, rest);
    assert!(store.list(&user).await.expect("list").is_empty());
    assert!(cluster.keys(&format!("{prefix}*")).is_empty());
}

/// With the replica of a session's master stopped, a write on that session takes the
/// whole `WAIT` timeout (so `WAIT` went to that master, and for that write), is still
/// acknowledged (fewer replicas than asked is a warning, not an error), and a store
/// configured with `WaitForReplicas::Never` does not wait.
async fn writes_wait_for_the_replica_of_their_master(cluster: &OwnCluster) {
    let prefix = format!("{}:", unique("wait"));
    let timeout = Duration::from_millis(300);
    let waiting = cluster_store(
        cluster,
        RedisStoreConfig {
            wait_for_replicas: WaitForReplicas::Wait(ReplicaWait {
                replicas: 1,
                timeout,
            }),
            response_timeout: Duration::from_secs(1),
            ..RedisStoreConfig::new(prefix.clone())
        },
    )
    .await;
    let not_waiting = cluster_store(
        cluster,
        RedisStoreConfig {
            wait_for_replicas: WaitForReplicas::Never,
            ..RedisStoreConfig::new(prefix.clone())
        },
    )
    .await;
    assert_eq!(not_waiting.replica_wait(), None);
    let handle = unique("waited");
    let other = unique("free");
    let slot = cluster.slot_of(&waiting.session_key(&handle));
    let replica = cluster
        .replica_of_slot(slot)
        .expect("the slot has a replica");
    // A session on another master, whose replica keeps running.
    let mut other_handle = other.clone();
    for i in 0.. {
        other_handle = format!("{other}-{i}");
        let s = cluster.slot_of(&waiting.session_key(&other_handle));
        if cluster.master_of_slot(s) != cluster.master_of_slot(slot) {
            break;
        }
    }

    // Warm up (connections, scripts loaded) before timing.
    waiting
        .create(new_session(&unique("warm"), "warm", "warm"))
        .await
        .expect("warm-up");
    cluster.signal(replica, "STOP");
    let started = Instant::now();
    let created = waiting.create(new_session(&handle, "u", "r")).await;
    let waited = started.elapsed();
    let started = Instant::now();
    let free = waiting.create(new_session(&other_handle, "u", "r")).await;
    let free_took = started.elapsed();
    let started = Instant::now();
    let unwaited = not_waiting
        .update_payload(&handle, serde_json::Map::new())
        .await;
    let unwaited_took = started.elapsed();
    cluster.signal(replica, "CONT");

    created.expect("acknowledged without its replica");
    free.expect("create on another master");
    assert!(unwaited.expect("update without waiting"));
    assert!(
        waited >= timeout,
        "WAIT did not wait for the stopped replica: {waited:?}"
    );
    assert!(
        free_took < timeout,
        "a write on another master waited for the stopped replica: {free_took:?}"
    );
    assert!(
        unwaited_took < timeout,
        "WaitForReplicas::Never waited: {unwaited_took:?}"
    );
    assert!(waiting.revoke(&handle).await.expect("revoke"));
    assert!(waiting.revoke(&other_handle).await.expect("revoke"));
    assert!(waiting.revoke_all("warm").await.expect("revoke_all").len() == 1);
}

/// A `WAIT` holds up the later commands on its connection: with one connection, four
/// writes to a master whose replica is stopped take four `WAIT` timeouts one after the
/// other; with the default four connections they wait side by side (one timeout, about).
async fn writes_to_one_master_wait_side_by_side(cluster: &OwnCluster) {
    let timeout = Duration::from_millis(300);
    let store = |connections| {
        cluster_store(
            cluster,
            RedisStoreConfig {
                wait_for_replicas: WaitForReplicas::Wait(ReplicaWait {
                    replicas: 1,
                    timeout,
                }),
                response_timeout: Duration::from_secs(3),
                connections,
                ..RedisStoreConfig::new(format!("{}:", unique("side")))
            },
        )
    };
    let (pooled, single) = (store(4).await, store(1).await);
    assert_eq!(RedisStoreConfig::default().connections, 4);
    // Four sessions on one master.
    let first = unique("stall");
    let slot = cluster.slot_of(&pooled.session_key(&first));
    let master = cluster.master_of_slot(slot);
    let mut handles = vec![first];
    for i in 0.. {
        if handles.len() == 4 {
            break;
        }
        let h = format!("{}-{i}", handles[0]);
        if cluster.master_of_slot(cluster.slot_of(&pooled.session_key(&h))) == master {
            handles.push(h);
        }
    }
    for store in [&pooled, &single] {
        for h in &handles {
            store
                .create(new_session(h, "u", "r"))
                .await
                .expect("create");
        }
    }
    let replica = cluster
        .replica_of_slot(slot)
        .expect("the slot has a replica");
    cluster.signal(replica, "STOP");
    let mut took = Vec::new();
    for store in [&pooled, &single] {
        let started = Instant::now();
        let updates = futures_util::future::join_all(
            handles
                .iter()
                .map(|h| store.update_payload(h, serde_json::Map::new())),
        )
        .await;
        took.push(started.elapsed());
        for updated in updates {
            assert!(updated.expect("acknowledged without the replica"));
        }
    }
    cluster.signal(replica, "CONT");
    assert!(
        took[0] < timeout * 2,
        "four connections: the writes queued behind each other's WAIT: {:?}",
        took[0]
    );
    assert!(
        took[1] >= timeout * 4,
        "one connection: the WAITs did not queue (the reason for several): {:?}",
        took[1]
    );
    for store in [&pooled, &single] {
        assert_eq!(store.revoke_all("u").await.expect("revoke_all").len(), 4);
    }
}

/// The key store on the cluster: compare-and-set of the key set works (one key, one slot).
async fn key_store_on_the_cluster(cluster: &OwnCluster) {
    use tower_session_refresh::keystore::KeyStore;
    let prefix = format!("{}:", unique("keys"));
    let store = cluster_store(cluster, RedisStoreConfig::new(prefix)).await;
    let keys = store.key_store().expect("key store");
    assert_eq!(keys.load().await.expect("load"), None);
}

/// Sessions refreshing in a loop while the master holding some of them is killed: until
/// the replica is promoted they see only store errors, never `Unauthorised` or theft;
/// afterwards every session refreshes again, with the tokens acknowledged before.
#[test]
fn a_killed_master_signs_nobody_out() {
    let mut cluster = OwnCluster::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let prefix = format!("{}:", unique("failover"));
    let store = runtime.block_on(cluster_store(
        &cluster,
        RedisStoreConfig {
            response_timeout: Duration::from_millis(500),
            ..RedisStoreConfig::new(prefix)
        },
    ));

    // 30 sessions, each with its current token (hash label, generation).
    let mut sessions: Vec<(String, String, u64)> = (0..30)
        .map(|i| (unique(&format!("s{i}")), format!("s{i}-g0"), 0))
        .collect();
    runtime.block_on(async {
        for (handle, label, _) in &sessions {
            store
                .create(new_session(handle, "user", label))
                .await
                .expect("create");
        }
    });
    let victim_key = store.session_key(&sessions[0].0);
    let slot = cluster.slot_of(&victim_key);
    let doomed = cluster.master_of_slot(slot).expect("master");
    let on_doomed = sessions
        .iter()
        .filter(|(h, _, _)| {
            cluster.master_of_slot(cluster.slot_of(&store.session_key(h))) == Some(doomed)
        })
        .count();
    assert!(on_doomed >= 1);

    // One refresh of every session; a store error leaves the token as it was (the
    // client retries with it). Returns the number of store errors.
    let round = |sessions: &mut Vec<(String, String, u64)>, n: u64| {
        runtime.block_on(async {
            let mut errors = 0;
            for (handle, label, generation) in sessions.iter_mut() {
                let next = format!("{handle}-r{n}");
                match store
                    .rotate(
                        handle,
                        Presented {
                            hash: &hash(label),
                            generation: *generation,
                            family_hash: &hash("family"),
                        },
                        &hash(&next),
                        later(3600),
                    )
                    .await
                {
                    Ok(RotateOutcome::Rotated { .. }) => {
                        *label = next;
                        *generation += 1;
                    }
                    Ok(other) => panic!("{handle} signed out during the failover: {other:?}"),
                    Err(_) => errors += 1,
                }
            }
            errors
        })
    };

    let mut n = 0;
    for _ in 0..3 {
        n += 1;
        assert_eq!(round(&mut sessions, n), 0, "errors before the failover");
    }
    let killed = cluster.kill_master_of(&victim_key);
    assert_eq!(killed, doomed);
    let killed_at = Instant::now();
    let mut errors_during = 0;
    // Refresh through the failover until the replica serves the slot.
    let promoted = loop {
        n += 1;
        errors_during += round(&mut sessions, n);
        if let Some(master) = cluster.master_of_slot(slot).filter(|p| *p != killed) {
            break master;
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(30),
            "no failover within 30 s"
        );
    };
    assert_eq!(
        cluster.wait_for_failover(slot, Duration::from_secs(30)),
        promoted,
        "the slot moved again"
    );
    assert_ne!(promoted, killed);
    assert!(
        errors_during > 0,
        "the sessions on the killed master saw no error at all"
    );
    // The client library refreshes its slot map (each of the store's connections its
    // own): within a few seconds every session refreshes again, with the token
    // acknowledged before the kill, round after round. Two rounds without an error are
    // asked for, not necessarily back to back: on a loaded machine a write to the promoted
    // master (no replica yet, so each `WAIT` takes its full timeout) can still time out
    // once in between, a 503 that leaves the token valid (a sign-out panics in `round`).
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut clean = 0;
    while clean < 2 {
        n += 1;
        if round(&mut sessions, n) == 0 {
            clean += 1;
            continue;
        }
        assert!(
            Instant::now() < deadline,
            "sessions still failing 20 s after the failover"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let listed = runtime
        .block_on(store.list("user"))
        .expect("list after failover");
    assert_eq!(
        listed.len(),
        sessions.len(),
        "a session was lost with its master"
    );
}
