//! A team on one AWS setup (moto): `stockwatch relay` runs, followers
//! (`watch --json`, the real binary) get their own queues and receive every
//! change and alert without reading a stream or scanning the ledger (a
//! counting proxy sits between them and moto); an acknowledgement made by a
//! machine whose clock is five minutes slow reaches them; a follower killed
//! with SIGKILL has its queue reaped; one started again misses nothing new.

use stockwatch_testkit as common;
use stockwatch_testkit::delay_proxy;
use stockwatch_testkit::moto;
use stockwatch_testkit::running::{self, Running};

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};
use stockwatch_aws::AwsSettings;

/// The real binary on moto (through `endpoint`), its clock offset by
/// libfaketime when given; followers' queues are abandoned after 4 s.
fn stockwatch(settings: &AwsSettings, dir: &std::path::Path, endpoint: &str, clock: Option<&str>) -> Command {
    let mut cmd = moto::stockwatch_on(settings, dir, endpoint, clock);
    cmd.env("STOCKWATCH_TEST_ABANDONED_MS", "4000");
    // Ended as a group with the test (faketime runs the binary as its child).
    running::own_group(&mut cmd);
    cmd
}

/// `stockwatch relay` on this test's setup, given time for its first beat
/// (followers started after it follow through it); killed when dropped.
fn start_relay(settings: &AwsSettings, dir: &std::path::Path, endpoint: &str) -> Running {
    running::relay(stockwatch(settings, dir, endpoint, None))
}

/// A `watch --json` follower whose lines arrive on a channel.
struct Follower {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<serde_json::Value>,
}

impl Follower {
    fn start(mut cmd: Command) -> Follower {
        let mut child = cmd
            .args(["watch", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Follower {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits up to `within` for a line that `wanted` holds of.
    fn wait_for(&mut self, what: &str, within: Duration, wanted: impl Fn(&serde_json::Value) -> bool) -> Duration {
        let started = Instant::now();
        loop {
            if self.seen.iter().any(&wanted) {
                return started.elapsed();
            }
            let left = within
                .checked_sub(started.elapsed())
                .unwrap_or_else(|| panic!("no {what} within {within:?}; the follower saw {:#?}", self.seen));
            if let Ok(line) = self.lines.recv_timeout(left) {
                self.seen.push(serde_json::from_str(&line).unwrap());
            }
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        running::end(&mut self.child);
    }
}

async fn follower_queues(settings: &AwsSettings) -> Vec<String> {
    let sqs = aws_sdk_sqs::Client::new(&moto::sdk_config().await);
    let prefix = format!("{}-fanout-f-", settings.topic);
    sqs.list_queues()
        .queue_name_prefix(&prefix)
        .send()
        .await
        .unwrap()
        .queue_urls()
        .to_vec()
}

/// Follower queues subscribed to the fan-out topic (the last step of a
/// follower's start).
async fn subscribed_queues(settings: &AwsSettings) -> usize {
    use stockwatch_aws::ledger::{DynamoLedger, FANOUT_TOPIC_KEY};
    let config = moto::sdk_config().await;
    let ledger = DynamoLedger::new(aws_sdk_dynamodb::Client::new(&config), settings.ledger_table.clone());
    let Ok(Some(topic)) = ledger.recorded_arn(FANOUT_TOPIC_KEY).await else {
        return 0;
    };
    let prefix = format!("{}-fanout-f-", settings.topic);
    subscriptions_of(&aws_sdk_sns::Client::new(&config), &topic)
        .await
        .iter()
        .filter(|s| s.endpoint().is_some_and(|e| e.contains(&prefix)))
        .count()
}

/// The topic's subscriptions (one page: tests have few).
async fn subscriptions_of(sns: &aws_sdk_sns::Client, topic: &str) -> Vec<aws_sdk_sns::types::Subscription> {
    let listed = sns.list_subscriptions_by_topic().topic_arn(topic).send().await.unwrap();
    listed.subscriptions().to_vec()
}

fn is_change(event: &serde_json::Value, item: &str) -> bool {
    event["type"] == "change" && event["item"] == item
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_of_a_relay_read_no_stream_and_lose_nothing() {
    let (_, settings, _) = moto::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let moto_url = moto::endpoint();
    let _relay = start_relay(&settings, dir.path(), &moto_url);

    // Two followers, counted: every request they make goes through the proxy.
    let proxy = delay_proxy::counting_proxy(&moto_url);
    let mut first = Follower::start(stockwatch(&settings, dir.path(), &proxy.url, None));
    let mut second = Follower::start(stockwatch(&settings, dir.path(), &proxy.url, None));
    // Each makes its queue as it starts (seconds on a loaded machine).
    let started = Instant::now();
    while follower_queues(&settings).await.len() < 2 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(follower_queues(&settings).await.len(), 2, "a queue each");

    let upload = stockwatch(&settings, dir.path(), &moto_url, None)
        .args(["upload", "--no-check", "samples/inventory-berlin.csv"])
        .output()
        .unwrap();
    assert!(upload.status.success(), "{}", common::stderr(&upload));
    for follower in [&mut first, &mut second] {
        let took = follower.wait_for("Echo Plus's change", Duration::from_secs(10), |e| {
            is_change(e, "Echo Plus")
        });
        assert!(took < Duration::from_secs(10));
        // The relay's checker raised it; the ledger's change reached us.
        follower.wait_for("the raised alert", Duration::from_secs(10), |e| {
            e["type"] == "alert" && e["event"] == "raised" && e["alert"]["item"] == "Echo Plus"
        });
    }
    let raised = first
        .seen
        .iter()
        .find(|e| e["type"] == "alert" && e["alert"]["item"] == "Echo Plus")
        .unwrap()["alert"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Acknowledged from a machine whose clock is five minutes slow.
    let ack = stockwatch(&settings, dir.path(), &moto_url, Some("-5m"))
        .args(["ack", &raised, "--by", "slow clock"])
        .output()
        .unwrap();
    assert!(ack.status.success(), "{}", common::stderr(&ack));
    for follower in [&mut first, &mut second] {
        let took = follower.wait_for("the acknowledgement", Duration::from_secs(5), |e| {
            e["type"] == "alert" && e["event"] == "acknowledged" && e["alert"]["id"] == raised.as_str()
        });
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
    let counts = proxy.counts.lock().unwrap().clone();
    assert_eq!(counts.get("GetRecords"), None, "followers read no stream: {counts:?}");
    assert_eq!(counts.get("Scan"), None, "followers scan no ledger: {counts:?}");

    // A follower killed outright: its queue goes within the test's
    // abandonment time (4 s) and a reap.
    unsafe {
        libc::kill(first.child.id() as i32, libc::SIGKILL);
    }
    let _ = first.child.wait();
    let deadline = Instant::now() + Duration::from_secs(20);
    while follower_queues(&settings).await.len() > 1 {
        assert!(Instant::now() < deadline, "the dead follower's queue was not reaped");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Started again, it gets what happens next; the other one still does.
    let mut again = Follower::start(stockwatch(&settings, dir.path(), &proxy.url, None));
    std::thread::sleep(Duration::from_secs(3));
    let upload = stockwatch(&settings, dir.path(), &moto_url, None)
        .args(["upload", "--no-check", "samples/inventory-pusan.csv"])
        .output()
        .unwrap();
    assert!(upload.status.success());
    for follower in [&mut again, &mut second] {
        follower.wait_for("Pusan's changes", Duration::from_secs(10), |e| {
            e["type"] == "change" && e["store"] == "Pusan" && e["item"] == "Echo Show"
        });
    }
    drop(again);
    drop(second);
}

/// The console, the real binary in tmux, on a setup with a relay: it shows
/// an upload's red row and its alert having read no stream and scanned
/// nothing after its start, and removes its queue when it quits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_follows_through_the_relay_and_removes_its_queue_at_exit() {
    let (_, settings, _) = moto::fresh().await;
    let env = common::Env::new();
    let moto_url = moto::endpoint();
    let _relay = start_relay(&settings, env.dir.path(), &moto_url);
    let proxy = delay_proxy::counting_proxy(&moto_url);
    let mut console_env = moto::operator_env(&settings, &proxy.url);
    console_env.push(("STOCKWATCH_TEST_ABANDONED_MS", "4000".into()));
    let console_env: Vec<(&str, &str)> = console_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let console = common::tmux::Tmux::start_with(&env, 100, 30, &console_env);
    console.wait_for("the console on AWS", false, |s| {
        s.contains("Stores (") && s.contains("LIVE")
    });
    assert_eq!(follower_queues(&settings).await.len(), 1, "the console's queue");
    proxy.reset();
    let upload = stockwatch(&settings, env.dir.path(), &moto_url, None)
        .args(["upload", "--no-check", "samples/inventory-berlin.csv"])
        .output()
        .unwrap();
    assert!(upload.status.success(), "{}", common::stderr(&upload));
    console.wait_for("the red row and its alert", false, |s| {
        s.contains("Echo Plus") && s.contains("✗ OUT") && s.contains("Alerts (1 open")
    });
    let counts = proxy.counts.lock().unwrap().clone();
    assert_eq!(counts.get("GetRecords"), None, "the console read no stream: {counts:?}");
    assert_eq!(counts.get("Scan"), None, "nor scanned anything: {counts:?}");
    console.keys(&["q"]);
    console.wait_for("the console to exit", false, |s| s.contains("CONSOLE-EXITED 0"));
    assert!(follower_queues(&settings).await.is_empty(), "its queue went with it");
}

/// Followers whose clocks are ten minutes off (twice the five minutes a
/// queue may go unheard): one fast reaps no other follower's queue when it
/// starts; one slow is not reaped by the relay while it lives. Liveness is
/// judged by times AWS keeps. An hour off (the case), a follower
/// still follows through the relay: the relay's beat is judged by AWS's
/// time too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_clocks_do_not_decide_whose_queue_is_reaped() {
    let (_, settings, _) = moto::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let moto_url = moto::endpoint();
    let _relay = start_relay(&settings, dir.path(), &moto_url);
    let on_time = Follower::start(stockwatch(&settings, dir.path(), &moto_url, None));
    let deadline = Instant::now() + Duration::from_secs(20);
    while follower_queues(&settings).await.is_empty() {
        assert!(Instant::now() < deadline, "the follower made no queue");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let first = follower_queues(&settings).await;
    let fast = Follower::start(stockwatch(&settings, dir.path(), &moto_url, Some("+10m")));
    let slow = Follower::start(stockwatch(&settings, dir.path(), &moto_url, Some("-10m")));
    // Well past the abandonment time (4 s) and several of the relay's reaps.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let queues = follower_queues(&settings).await;
    assert!(
        queues.contains(&first[0]),
        "the fast follower reaped the others: {queues:?}"
    );
    assert_eq!(queues.len(), 3, "every living follower keeps its queue: {queues:?}");
    // An hour off, a follower still judges the relay's beat by AWS's time:
    // it follows through the relay, reaps nobody, and is not reaped.
    let mut hour_fast = Follower::start(stockwatch(&settings, dir.path(), &moto_url, Some("+1h")));
    let mut hour_slow = Follower::start(stockwatch(&settings, dir.path(), &moto_url, Some("-1h")));
    let deadline = Instant::now() + Duration::from_secs(20);
    while follower_queues(&settings).await.len() < 5 {
        let queues = follower_queues(&settings).await;
        assert!(
            Instant::now() < deadline,
            "followers an hour off did not follow through the relay (or reaped): {queues:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Past the abandonment time again (4 s), with the relay reaping meanwhile.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let upload = stockwatch(&settings, dir.path(), &moto_url, None)
        .args(["upload", "--no-check", "samples/inventory-pusan.csv"])
        .output()
        .unwrap();
    assert!(upload.status.success(), "{}", common::stderr(&upload));
    for follower in [&mut hour_fast, &mut hour_slow] {
        follower.wait_for("Pusan's changes", Duration::from_secs(20), |e| {
            is_change(e, "Echo Show") && e["store"] == "Pusan"
        });
    }
    let queues = follower_queues(&settings).await;
    assert_eq!(
        queues.len(),
        5,
        "every follower, an hour off or not, keeps its queue: {queues:?}"
    );
    drop((on_time, fast, slow, hour_fast, hour_slow));
}

/// An in-process fan-out on the setup's topic (its ledger, as provisioning
/// recorded it), abandoning queues after 300 s; and the topic's ARN.
async fn fanout_on(
    settings: &AwsSettings,
    clients: &stockwatch_aws::Clients,
) -> (stockwatch_aws::fanout::SnsFanout, String) {
    use stockwatch_aws::ledger::{DynamoLedger, FANOUT_TOPIC_KEY};
    let ledger = std::sync::Arc::new(DynamoLedger::new(
        clients.dynamodb.clone(),
        settings.ledger_table.clone(),
    ));
    let topic = ledger
        .recorded_arn(FANOUT_TOPIC_KEY)
        .await
        .unwrap()
        .expect("a fan-out topic");
    let fanout = stockwatch_aws::fanout::SnsFanout::new(
        clients.sns.clone(),
        clients.sqs.clone(),
        topic.clone(),
        settings.follower_queue_prefix.clone(),
        ledger,
        Duration::from_secs(300),
        clients.server_clock.clone(),
    );
    (fanout, topic)
}

/// The reaper lists queues, then subscriptions: a follower that makes its
/// queue and subscribes in between is not taken for an orphan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_subscribing_while_a_reap_lists_stays_subscribed() {
    use stockwatch_core::ports::{Event, Fanout};
    let (_, settings, clients) = moto::fresh().await;
    let (reaper, topic) = fanout_on(&settings, &clients).await;
    let listed = reaper.follower_queues().await.unwrap();
    // Between the reaper's two listings, as a real network may order them.
    let (follower, _) = fanout_on(&settings, &clients).await;
    let mut subscription = follower.subscribe("late").await.unwrap();
    reaper.reap_listed(&listed, Duration::from_secs(300)).await.unwrap();

    let subscribed = subscriptions_of(&clients.sns, &topic).await;
    let endpoints: Vec<&str> = subscribed.iter().filter_map(|s| s.endpoint()).collect();
    assert!(
        endpoints.iter().any(|e| e.ends_with(&subscription.id)),
        "unsubscribed as an orphan: {endpoints:?}"
    );
    reaper.publish(&[Event::Beat]).await.unwrap();
    let heard = follower
        .receive(&mut subscription, Duration::from_secs(2))
        .await
        .unwrap();
    assert!(heard.contains(&Event::Beat), "it still hears the topic: {heard:?}");
    follower.unsubscribe(&subscription).await.unwrap();
}

/// A follower (in this process) of a relay's topic on moto, its snapshot read.
struct Relayed {
    fanout: std::sync::Arc<stockwatch_aws::fanout::SnsFanout>,
    follower: stockwatch_core::app::Follower,
    settings: AwsSettings,
    clients: stockwatch_aws::Clients,
    topic: String,
    table: std::sync::Arc<dyn stockwatch_core::ports::InventoryTable>,
}

/// Its relay counts as silent after `silent_after` unheard.
async fn relayed_follower(name: &str, silent_after: Duration) -> Relayed {
    use stockwatch_core::app::{FollowOptions, Operations};
    use stockwatch_core::ports::RetryPolicy;
    let (mut ports, settings, clients) = moto::fresh().await;
    let (fanout, topic) = fanout_on(&settings, &clients).await;
    let fanout = std::sync::Arc::new(fanout);
    (ports.fanout, ports.relayed) = (fanout.clone(), true);
    let table = ports.table.clone();
    let ops = Operations::new(ports, RetryPolicy::default());
    let options = FollowOptions {
        snapshot: true,
        snoozes: false,
        from_start: false,
        wait: Duration::from_millis(200),
        keep_alive_every: Duration::from_millis(300),
        silent_after,
    };
    let mut follower = ops.follow(name, options).await.unwrap();
    while follower.in_snapshot() {
        follower.next().await.unwrap();
    }
    Relayed {
        fanout,
        follower,
        settings,
        clients,
        topic,
        table,
    }
}

/// A change event for the feed, named `id` (its item too).
fn test_change(id: &str) -> stockwatch_core::ports::Event {
    use stockwatch_core::ports::{Change, ChangeKind, Event, Image};
    Event::Change(Change {
        id: id.into(),
        kind: ChangeKind::Insert,
        store: "Berlin".into(),
        item: id.into(),
        old: None,
        new: Some(Image {
            count: 3,
            as_of: stockwatch_domain::Timestamp::now(),
            source: "k".into(),
        }),
        at: stockwatch_domain::Timestamp::now(),
    })
}

/// Messages of the feed lost on the way (a queue's retention, here a purge)
/// show as a hole in its numbering: the follower reads afresh; a message
/// delivered twice counts once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_notices_lost_messages_by_their_numbers_and_reads_afresh() {
    use stockwatch_core::app::Followed;
    use stockwatch_core::ports::Fanout;
    let Relayed {
        fanout,
        mut follower,
        settings,
        clients,
        ..
    } = relayed_follower("forgetful", Duration::from_secs(300)).await;
    let queue = follower_queues(&settings).await.remove(0);
    // A message twice on the queue, as SNS may deliver it.
    fanout.publish(&[test_change("first")]).await.unwrap();
    let copy = clients
        .sqs
        .receive_message()
        .queue_url(&queue)
        .visibility_timeout(0)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    let body = copy.messages()[0].body().unwrap().to_string();
    clients
        .sqs
        .send_message()
        .queue_url(&queue)
        .message_body(&body)
        .send()
        .await
        .unwrap();
    let mut firsts = 0;
    for _ in 0..10 {
        for followed in follower.next().await.unwrap() {
            if let Followed::Changes(changes) = followed {
                firsts += changes.iter().filter(|c| c.id == "first").count();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(firsts, 1, "a message delivered twice counts once");
    // One message lost before it is read, then the next arrives.
    fanout.publish(&[test_change("lost")]).await.unwrap();
    clients.sqs.purge_queue().queue_url(&queue).send().await.unwrap();
    fanout.publish(&[test_change("after")]).await.unwrap();
    let (mut seen, deadline) = (Vec::new(), Instant::now() + Duration::from_secs(15));
    while Instant::now() < deadline
        && !seen
            .iter()
            .any(|f| matches!(f, Followed::Unresolved { again: true, .. }))
    {
        seen.extend(follower.next().await.unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen.contains(&Followed::Gap), "the hole is a gap: {seen:?}");
    assert!(
        seen.iter()
            .any(|f| matches!(f, Followed::Unresolved { again: true, .. })),
        "and a fresh snapshot follows: {seen:?}"
    );
    follower.ender().end().await.unwrap();
}

/// A relay that stops beating (killed, its machine asleep) relays nothing:
/// its followers say it is silent, read their view afresh at once and
/// again every as long while it stays silent (so a view lags the table by
/// at most that), and say when it is heard again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_relay_s_followers_say_so_and_read_afresh_until_it_beats() {
    use stockwatch_core::app::Followed;
    use stockwatch_core::ports::Fanout;
    let silent_after = Duration::from_secs(2);
    let Relayed {
        fanout,
        mut follower,
        table,
        ..
    } = relayed_follower("patient", silent_after).await;
    // Written while no relay runs: no change of it reaches the topic.
    let written = stockwatch_testkit::contract::snapshot(&[("Berlin", "Unrelayed", 0)], 5, "uploads/b.csv");
    table.write(written).await.unwrap();
    let rows_of = |seen: &[Followed]| -> Vec<String> {
        seen.iter()
            .filter_map(|f| match f {
                Followed::Rows { rows, .. } => Some(rows.iter().map(|r| r.item.clone()).collect::<Vec<_>>()),
                _ => None,
            })
            .flatten()
            .collect()
    };
    let started = Instant::now();
    let (mut seen, mut gaps): (Vec<Followed>, Vec<Instant>) = (Vec::new(), Vec::new());
    while gaps.len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(20), "no fresh read: {seen:?}");
        let got = follower.next().await.unwrap();
        if got.contains(&Followed::Refresh) {
            gaps.push(Instant::now());
        }
        seen.extend(got);
    }
    let between = gaps[1] - gaps[0];
    assert!(
        gaps[0] - started < silent_after && between >= silent_after && between < silent_after * 2,
        "read afresh once silent and again a silence later ({:?}, then {between:?}): {seen:?}",
        gaps[0] - started
    );
    assert_eq!(
        seen.iter().filter(|f| **f == Followed::PublisherSilent(true)).count(),
        1,
        "silence is said once: {seen:?}"
    );
    assert!(
        rows_of(&seen).contains(&"Unrelayed".to_string()),
        "the fresh read holds what was never relayed: {seen:?}"
    );
    // The relay beats again: said once, and no more fresh reads.
    fanout.beat().await.unwrap();
    let mut after: Vec<Followed> = Vec::new();
    let deadline = Instant::now() + silent_after;
    while Instant::now() < deadline {
        after.extend(follower.next().await.unwrap());
        if after.contains(&Followed::PublisherSilent(false)) {
            break;
        }
    }
    assert!(
        after.contains(&Followed::PublisherSilent(false)),
        "heard again: {after:?}"
    );
    fanout.beat().await.unwrap();
    let deadline = Instant::now() + silent_after / 2;
    while Instant::now() < deadline {
        after.extend(follower.next().await.unwrap());
    }
    assert!(
        !after.contains(&Followed::Refresh),
        "no fresh read while it beats: {after:?}"
    );
    follower.ender().end().await.unwrap();
}

/// A follower whose queue was reaped while it slept (a closed laptop), or
/// whose subscription was taken: it subscribes again, reads a fresh
/// snapshot, says so once, and hears the topic again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_whose_queue_was_reaped_subscribes_again_and_refreshes() {
    use stockwatch_core::app::Followed;
    use stockwatch_core::ports::Fanout;
    let Relayed {
        fanout,
        mut follower,
        settings,
        clients,
        topic,
        ..
    } = relayed_follower("sleeper", Duration::from_secs(300)).await;
    let sqs = &clients.sqs;
    for lost in ["queue", "subscription"] {
        let queues = follower_queues(&settings).await;
        assert_eq!(queues.len(), 1, "{queues:?}");
        if lost == "queue" {
            sqs.delete_queue().queue_url(&queues[0]).send().await.unwrap();
        } else {
            for s in subscriptions_of(&clients.sns, &topic).await {
                clients
                    .sns
                    .unsubscribe()
                    .subscription_arn(s.subscription_arn().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            seen.extend(follower.next().await.unwrap());
            if !follower.in_snapshot() && seen.iter().any(|f| matches!(f, Followed::Reconnected { .. })) {
                break;
            }
            // Reads of an empty queue return at once: the keep-alive is due
            // every 300 ms.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let reconnected = seen
            .iter()
            .filter(|f| matches!(f, Followed::Reconnected { .. }))
            .count();
        assert_eq!(reconnected, 1, "said once when the {lost} was lost: {seen:?}");
        assert!(
            seen.iter()
                .any(|f| matches!(f, Followed::Unresolved { again: true, .. })),
            "a fresh snapshot after the lost {lost}: {seen:?}"
        );
        let id = format!("after the lost {lost}");
        fanout.publish(&[test_change(&id)]).await.unwrap();
        let mut heard = false;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let got = follower.next().await.unwrap();
            if got
                .iter()
                .any(|f| matches!(f, Followed::Changes(c) if c.iter().any(|c| c.id == id)))
            {
                heard = true;
                break;
            }
        }
        assert!(heard, "it hears the topic again {id}");
    }
    follower.ender().end().await.unwrap();
}

/// A follower stopped (SIGSTOP: a closed laptop) past the time its queue is
/// kept: the relay reaps its queue; woken (SIGCONT), it says it reconnected
/// and shows what is uploaded next. The other followers never notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_woken_after_its_queue_was_reaped_reconnects_and_follows() {
    let (_, settings, _) = moto::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let moto_url = moto::endpoint();
    let _relay = start_relay(&settings, dir.path(), &moto_url);
    let mut sleeper = Follower::start(stockwatch(&settings, dir.path(), &moto_url, None));
    let mut awake = Follower::start(stockwatch(&settings, dir.path(), &moto_url, None));
    let mut third = Follower::start(stockwatch(&settings, dir.path(), &moto_url, None));
    // All subscribed: stopped now, the sleeper is following, not starting.
    let deadline = Instant::now() + Duration::from_secs(20);
    while subscribed_queues(&settings).await < 3 {
        assert!(Instant::now() < deadline, "the followers did not subscribe");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let before = follower_queues(&settings).await;
    unsafe { libc::kill(sleeper.child.id() as i32, libc::SIGSTOP) };
    // Its queue still for past the test's abandonment time (4 s): reaped.
    let deadline = Instant::now() + Duration::from_secs(30);
    while follower_queues(&settings).await.len() > 2 {
        assert!(Instant::now() < deadline, "the sleeper's queue was not reaped");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    unsafe { libc::kill(sleeper.child.id() as i32, libc::SIGCONT) };
    sleeper.wait_for("the reconnect", Duration::from_secs(20), |e| e["type"] == "reconnected");
    let after = follower_queues(&settings).await;
    assert_eq!(after.len(), 3, "a new queue: {after:?}");
    assert!(after.iter().any(|q| !before.contains(q)), "{before:?} {after:?}");
    let upload = stockwatch(&settings, dir.path(), &moto_url, None)
        .args(["upload", "--no-check", "samples/inventory-pusan.csv"])
        .output()
        .unwrap();
    assert!(upload.status.success(), "{}", common::stderr(&upload));
    for follower in [&mut sleeper, &mut awake, &mut third] {
        follower.wait_for("Pusan's changes", Duration::from_secs(15), |e| {
            is_change(e, "Echo Show") && e["store"] == "Pusan"
        });
    }
    for follower in [&awake, &third] {
        assert!(
            !follower.seen.iter().any(|e| e["type"] == "reconnected"),
            "the followers that stayed awake kept their queues"
        );
    }
    drop((sleeper, awake, third));
}
