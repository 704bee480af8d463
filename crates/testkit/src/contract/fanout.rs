//! The fan-out feed: what the relay publishes (changes of stock, alerts'
//! states) reaches every subscriber, whichever way the backend delivers it
//! (a topic and a queue each, or each subscription reading the sources).

use super::snapshot;
use std::time::{Duration, Instant};
use stockwatch_core::pipeline::{Checker, CheckerConfig, Relay};
use stockwatch_core::ports::*;
use stockwatch_domain::Timestamp;

/// Receives until `done` holds of everything received, or 20 s pass.
async fn receive_until(b: &Ports, sub: &mut Subscription, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let started = Instant::now();
    let mut all = Vec::new();
    while !done(&all) && started.elapsed() < Duration::from_secs(20) {
        all.extend(b.fanout.receive(sub, Duration::from_secs(1)).await.unwrap());
    }
    all
}

fn has_change(events: &[Event], store: &str, item: &str, count: u32) -> bool {
    events.iter().any(|e| {
        matches!(e, Event::Change(c) if c.store == store && c.item == item
            && c.new.as_ref().is_some_and(|n| n.count == count))
    })
}

fn has_alert(events: &[Event], id: stockwatch_domain::AlertId) -> bool {
    events.iter().any(|e| matches!(e, Event::Alert(a) if a.id == id))
}

pub async fn what_the_relay_publishes_reaches_every_subscriber(b: &Ports) {
    let mut first = b.fanout.subscribe("first follower").await.unwrap();
    let mut second = b.fanout.subscribe("second follower").await.unwrap();
    assert_ne!(first.id, second.id);
    b.table
        .write(snapshot(&[("Berlin", "Dot", 0), ("Berlin", "Tap", 9)], 100, "k/a.csv"))
        .await
        .unwrap();
    let relay = Relay::new(
        b.clone(),
        Checker::new(
            b.clone(),
            CheckerConfig {
                name: "relay-test".into(),
                ..CheckerConfig::default()
            },
        ),
    );
    // The relay publishes the changes and checks them: Berlin/Dot is out.
    let report = relay.run_once().await.unwrap();
    assert_eq!(report.changes, 2);
    assert_eq!(report.check.raised.len(), 1, "{:?}", report.check);
    let raised = report.check.raised[0].id;
    // The alert's state is published on the next pass (from the ledger).
    relay.run_once().await.unwrap();
    for sub in [&mut first, &mut second] {
        let events = receive_until(b, sub, |e| has_change(e, "Berlin", "Dot", 0) && has_alert(e, raised)).await;
        assert!(has_change(&events, "Berlin", "Dot", 0), "{} got {events:?}", sub.id);
        assert!(has_change(&events, "Berlin", "Tap", 9));
        assert!(has_alert(&events, raised), "{} got {events:?}", sub.id);
    }
    // An acknowledgement elsewhere reaches them too.
    let ack = stockwatch_domain::Acknowledgement {
        by: "ana".into(),
        at: Timestamp::now(),
        note: None,
    };
    b.ledger.acknowledge(raised, &ack).await.unwrap();
    relay.run_once().await.unwrap();
    let acked = |events: &[Event]| {
        events.iter().any(|e| {
            matches!(e, Event::Alert(a) if a.id == raised
                && a.state == stockwatch_domain::AlertState::Acknowledged)
        })
    };
    for sub in [&mut first, &mut second] {
        let events = receive_until(b, sub, acked).await;
        assert!(acked(&events), "{} got {events:?}", sub.id);
    }
    b.fanout.unsubscribe(&first).await.unwrap();
    b.fanout.unsubscribe(&second).await.unwrap();
}
