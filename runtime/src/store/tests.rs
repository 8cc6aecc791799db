use std::time::{Duration, SystemTime};

use super::*;
use crate::engine::NodeType;

fn new_run(name: &str, created: SystemTime) -> NewRun {
    NewRun {
        name: name.to_string(),
        uid: format!("uid-{name}"),
        namespace: "default".to_string(),
        created_at: created,
        priority: None,
        spec: "kind: Workflow\n".to_string(),
        source: Some(PathBuf::from("/tmp/wf.yaml")),
        parameters: vec![("message".into(), "hi".into())],
        entrypoint: None,
    }
}

fn node(run: &str, name: &str, phase: NodePhase) -> NodeStatus {
    NodeStatus {
        id: crate::engine::state::node_id(run, name),
        name: name.to_string(),
        display_name: name.to_string(),
        node_type: NodeType::Pod,
        template_name: Some("t".into()),
        phase,
        message: None,
        started_at: Some(from_millis(1_700_000_000_000)),
        finished_at: phase.is_completed().then(|| from_millis(1_700_000_001_500)),
        children: vec![],
        executor: Some("toolbox".into()),
        inputs: vec![("a".into(), "1".into())],
        outputs: NodeOutputs {
            result: Some("out".into()),
            exit_code: Some(0),
            parameters: vec![("p".into(), "v".into())],
            artifacts: vec![("art".into(), PathBuf::from("/x/y"))],
        },
        retry_attempt: Some(2),
        memoization: None,
    }
}

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&Store::path_in(dir.path())).unwrap()
}

#[test]
fn opening_twice_migrates_once_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    drop(store);
    let store = open(&dir);
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    let mode: String = store
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_database_from_a_newer_skiff_is_refused_with_a_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = Store::path_in(dir.path());
    drop(Store::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("upgrade skiff"), "{err}");
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = Store::path_in(dir.path());
    std::fs::write(&path, vec![b'x'; 8192]).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(err.to_string().contains("skiff.db"), "{err}");
}

#[test]
fn runs_list_newest_first_and_filter() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let owner = Owner::current();
    let t0 = from_millis(1_700_000_000_000);
    for (i, name) in ["alpha-1", "beta-1", "alpha-2"].iter().enumerate() {
        store
            .create_run(
                &new_run(name, t0 + Duration::from_secs(i as u64 * 60)),
                &owner,
            )
            .unwrap();
    }
    let all = store.list(&ListFilter::default()).unwrap();
    let names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["alpha-2", "beta-1", "alpha-1"]);
    assert!(all.iter().all(|r| r.phase == NodePhase::Running));

    let prefixed = store
        .list(&ListFilter {
            prefix: Some("alpha".into()),
            ..ListFilter::default()
        })
        .unwrap();
    assert_eq!(prefixed.len(), 2);
    let since = store
        .list(&ListFilter {
            since: Some(t0 + Duration::from_secs(60)),
            ..ListFilter::default()
        })
        .unwrap();
    assert_eq!(since.len(), 2);
    let mut store = store;
    store
        .write(
            "beta-1",
            &Batch {
                run: Some(RunUpdate {
                    phase: NodePhase::Failed,
                    message: Some("boom".into()),
                    finished_at: Some(t0 + Duration::from_secs(90)),
                }),
                ..Batch::default()
            },
        )
        .unwrap();
    let failed = store
        .list(&ListFilter {
            phases: vec![NodePhase::Failed],
            ..ListFilter::default()
        })
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].message.as_deref(), Some("boom"));
    assert_eq!(
        failed[0].duration(SystemTime::now()),
        Duration::from_secs(30)
    );
    assert_eq!(store.latest().unwrap().as_deref(), Some("alpha-2"));
    assert!(matches!(
        store.create_run(&new_run("beta-1", t0), &owner),
        Err(StoreError::Exists(_))
    ));
}

#[test]
fn nodes_and_logs_read_back_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store
        .create_run(&new_run("wf", SystemTime::now()), &Owner::current())
        .unwrap();
    let a = node("wf", "wf.a", NodePhase::Succeeded);
    let mut b = node("wf", "wf.b", NodePhase::Running);
    store
        .write(
            "wf",
            &Batch {
                nodes: vec![(0, a.clone()), (1, b.clone())],
                logs: vec![(a.id.clone(), SystemTime::now(), b"one\n".to_vec())],
                progress: Some((1, 2)),
                ..Batch::default()
            },
        )
        .unwrap();
    b.phase = NodePhase::Failed;
    b.message = Some("exit code 1".into());
    store
        .write(
            "wf",
            &Batch {
                nodes: vec![(1, b.clone())],
                logs: vec![(b.id.clone(), SystemTime::now(), b"two\n".to_vec())],
                ..Batch::default()
            },
        )
        .unwrap();
    let (record, state) = store.state("wf").unwrap();
    assert_eq!(
        record.parameters,
        vec![("message".to_string(), "hi".to_string())]
    );
    assert_eq!(record.summary.progress, (1, 2));
    let got: Vec<&NodeStatus> = state.nodes_in_order().collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].outputs, a.outputs);
    assert_eq!(got[0].started_at, a.started_at);
    assert_eq!(got[0].finished_at, a.finished_at);
    assert_eq!(got[0].retry_attempt, Some(2));
    assert_eq!(got[1].phase, NodePhase::Failed);
    assert_eq!(got[1].message.as_deref(), Some("exit code 1"));

    let logs = store.logs("wf", None, 0).unwrap();
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0].data, b"one\n");
    let after = store.logs("wf", None, logs[0].seq).unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].node, b.id);
    assert_eq!(store.logs("wf", Some(&a.id), 0).unwrap().len(), 1);

    assert!(store.delete("wf").unwrap());
    assert!(store.logs("wf", None, 0).unwrap().is_empty());
    assert!(store.nodes("wf").unwrap().is_empty());
    assert!(matches!(store.run("wf"), Err(StoreError::NotFound(_))));
}

#[test]
fn retry_keeps_only_the_named_nodes_and_their_logs() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store
        .create_run(&new_run("wf", SystemTime::now()), &Owner::current())
        .unwrap();
    let a = node("wf", "wf.a", NodePhase::Succeeded);
    let b = node("wf", "wf.b", NodePhase::Failed);
    store
        .write(
            "wf",
            &Batch {
                nodes: vec![(0, a.clone()), (1, b.clone())],
                logs: vec![
                    (a.id.clone(), SystemTime::now(), b"a\n".to_vec()),
                    (b.id.clone(), SystemTime::now(), b"b\n".to_vec()),
                ],
                run: Some(RunUpdate {
                    phase: NodePhase::Failed,
                    message: Some("b failed".into()),
                    finished_at: Some(SystemTime::now()),
                }),
                ..Batch::default()
            },
        )
        .unwrap();
    store
        .begin_retry("wf", &Owner::current(), std::slice::from_ref(&a.id))
        .unwrap();
    let (record, state) = store.state("wf").unwrap();
    assert_eq!(record.summary.phase, NodePhase::Running);
    assert_eq!(record.summary.message, None);
    assert_eq!(record.summary.finished_at, None);
    assert_eq!(state.order, vec![a.id.clone()]);
    let logs = store.logs("wf", None, 0).unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].node, a.id);
}

#[test]
fn a_run_whose_process_is_gone_is_reaped_as_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    // A process that has ended: its pid no longer names it.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    let token = process_token(pid).unwrap_or_else(|| "gone".into());
    child.wait().unwrap();
    let dead = Owner {
        pid,
        token,
        host: host_name(),
    };
    store
        .create_run(&new_run("dead", SystemTime::now()), &dead)
        .unwrap();
    store
        .create_run(&new_run("alive", SystemTime::now()), &Owner::current())
        .unwrap();
    store
        .write(
            "dead",
            &Batch {
                nodes: vec![
                    (0, node("dead", "dead.a", NodePhase::Succeeded)),
                    (1, node("dead", "dead.b", NodePhase::Running)),
                ],
                ..Batch::default()
            },
        )
        .unwrap();
    let reaped = store.reap_interrupted().unwrap();
    assert_eq!(reaped, vec!["dead".to_string()]);
    let (record, state) = store.state("dead").unwrap();
    assert_eq!(record.summary.phase, NodePhase::Error);
    assert!(
        record
            .summary
            .message
            .as_deref()
            .unwrap()
            .starts_with("interrupted"),
    );
    let phases: Vec<NodePhase> = state.nodes_in_order().map(|n| n.phase).collect();
    assert_eq!(phases, [NodePhase::Succeeded, NodePhase::Error]);
    assert_eq!(
        store.run("alive").unwrap().summary.phase,
        NodePhase::Running
    );
    assert!(store.reap_interrupted().unwrap().is_empty());
}

#[test]
fn another_hosts_run_is_reaped_only_when_its_heartbeat_is_stale() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let remote = Owner {
        pid: 1,
        token: "x".into(),
        host: "elsewhere.example".into(),
    };
    store
        .create_run(&new_run("remote", SystemTime::now()), &remote)
        .unwrap();
    assert!(store.reap_interrupted().unwrap().is_empty());
    store
        .conn
        .execute("UPDATE runs SET heartbeat_at = 0 WHERE name = 'remote'", [])
        .unwrap();
    assert_eq!(store.reap_interrupted().unwrap(), ["remote"]);
}

#[test]
fn stop_requests_reach_the_heartbeat() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store
        .create_run(&new_run("wf", SystemTime::now()), &Owner::current())
        .unwrap();
    assert_eq!(store.heartbeat("wf").unwrap(), None);
    assert!(store.request_stop("wf", StopRequest::Terminate).unwrap());
    assert_eq!(store.heartbeat("wf").unwrap(), Some(StopRequest::Terminate));
    store
        .write(
            "wf",
            &Batch {
                run: Some(RunUpdate {
                    phase: NodePhase::Succeeded,
                    message: None,
                    finished_at: Some(SystemTime::now()),
                }),
                ..Batch::default()
            },
        )
        .unwrap();
    assert!(!store.request_stop("wf", StopRequest::Stop).unwrap());
    assert!(matches!(
        store.request_stop("nope", StopRequest::Stop),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn memos_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store
        .create_run(&new_run("wf", SystemTime::now()), &Owner::current())
        .unwrap();
    assert_eq!(store.memo("cache", "k").unwrap(), None);
    let memo = Memo {
        outputs: node("wf", "wf.a", NodePhase::Succeeded).outputs,
        run: "wf".into(),
        node: "wf-1".into(),
        created_at: from_millis(1_700_000_000_000),
    };
    store
        .write(
            "wf",
            &Batch {
                memos: vec![("cache".into(), "k".into(), memo.clone())],
                ..Batch::default()
            },
        )
        .unwrap();
    assert_eq!(store.memo("cache", "k").unwrap(), Some(memo));
}

#[test]
fn many_connections_opening_a_new_store_at_once_all_succeed() {
    // The race that two `skiff submit`s started together on an empty home run: each switches the new
    // file to WAL and migrates it. (Threads share one process's locks, so this is the milder form of it;
    // `two_processes_run_workflows_on_one_database_at_once` in tests/runs.rs is the one across processes.)
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = Store::path_in(dir.path());
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    Store::open(&path).map(|s| s.schema_version().unwrap())
                })
            })
            .collect();
        for t in threads {
            let version = t.join().unwrap().unwrap();
            assert_eq!(version, 1);
        }
    }
}

#[test]
fn two_connections_write_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = Store::path_in(dir.path());
    drop(Store::open(&path).unwrap());
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                for i in 0..50 {
                    let name = format!("run-{t}-{i}");
                    store
                        .create_run(&new_run(&name, SystemTime::now()), &Owner::current())
                        .unwrap();
                    store
                        .write(
                            &name,
                            &Batch {
                                nodes: vec![(
                                    0,
                                    node(&name, &format!("{name}.a"), NodePhase::Succeeded),
                                )],
                                logs: vec![("n".into(), SystemTime::now(), b"x".to_vec())],
                                ..Batch::default()
                            },
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.list(&ListFilter::default()).unwrap().len(), 100);
    assert_eq!(store.integrity_check().unwrap(), "ok");
}
