//! Reminders' own work: which posts are due (the schedule, 20 deadlines × 6 milestones
//! and a digest) and the post itself for 10,000 connections still to switch; and the
//! burndown chart. Run: `cargo bench --bench reminders`.

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use cutover::domain::{
    AuthType, Connection, ConnectionId, ConnectionSource, ConnectionState, Deadline,
    DeadlineOrigin, DisplayName, HumanDuration, Snowflake,
};
use cutover::reminders::chart::{self, Burndown};
use cutover::reminders::post::{self, Pending};
use cutover::reminders::schedule::{self, Calendar};
use cutover::store::{OwnerWork, Progress};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 10_000;
const DEADLINES: i64 = 20;
const ROUNDS: usize = 500;
const CHARTS: usize = 40;

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick =
        |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    println!(
        "{name}: median {:.2} ms, p99 {:.2} ms ({} runs)",
        pick(0.5),
        pick(0.99),
        samples.len()
    );
}

fn main() {
    let now = DateTime::parse_from_rfc3339("2026-03-02T09:30:00Z")
        .expect("now")
        .with_timezone(&Utc);
    let deadlines: Vec<Deadline> = (0..DEADLINES)
        .map(|i| Deadline {
            origin: DeadlineOrigin::Added(i),
            title: DisplayName::parse(&format!("Deadline {i}")).expect("title"),
            due: now + TimeDelta::days(i * 3 - 10),
            note: "A line of detail".into(),
            approximate: false,
        })
        .collect();
    let before: Vec<HumanDuration> = [30, 14, 7, 3, 1, 0]
        .into_iter()
        .map(|d| HumanDuration::from_seconds(d * 86_400))
        .collect();
    let calendar = Calendar {
        deadlines: &deadlines,
        before: &before,
        digest_at: NaiveTime::from_hms_opt(9, 30, 0),
        timezone: "Europe/Berlin".parse().expect("zone"),
        skip_dates: &[],
    };
    let at = DateTime::from_timestamp(0, 0).unwrap_or_default();
    let pending: Vec<Connection> = (0..CONNECTIONS)
        .map(|i| Connection {
            id: ConnectionId::parse(&format!("64b7f1c2a9e3d4{i:010}")).expect("id"),
            name: DisplayName::parse(&format!("Zoom connection {i}")).expect("name"),
            integration: cutover::domain::IntegrationName::default(),
            owner: Snowflake::new(100_000 + (i / 7) as u64).ok(),
            auth_type: AuthType::Jwt,
            state: ConnectionState::Pending,
            source: ConnectionSource::Celigo,
            created_at: at,
            updated_at: at,
            migrated_by: None,
            migrated_at: None,
            migrated_via: None,
            offline: None,
            removed_at: None,
        })
        .collect();
    // What the store hands a round: each owner's count and their first few by name.
    let mut owners: Vec<OwnerWork> = Vec::new();
    for connection in pending {
        match owners.last_mut() {
            Some(work) if work.owner == connection.owner => {
                work.left += 1;
                if work.first.len() < 25 {
                    work.first.push(connection);
                }
            }
            _ => owners.push(OwnerWork {
                owner: connection.owner,
                left: 1,
                first: vec![connection],
            }),
        }
    }
    let progress = Progress {
        migrated: 2_000,
        total: 12_000,
    };
    // A year of claims already made.
    let claimed: HashSet<String> = calendar
        .between(now - TimeDelta::days(365), now - TimeDelta::minutes(1))
        .into_iter()
        .map(|s| s.key)
        .collect();

    let mut rounds = Vec::with_capacity(ROUNDS);
    for i in 0..ROUNDS {
        let at = now + TimeDelta::seconds(i as i64);
        let started = Instant::now();
        let plan = schedule::plan(&calendar, &claimed, at - TimeDelta::seconds(30), at, 10_000);
        let post = post::milestone(
            &deadlines[12],
            before[2],
            at,
            progress,
            Pending {
                owners: &owners,
                left: 10_000,
            },
        );
        rounds.push(started.elapsed());
        assert!(
            plan.next.is_some() && post.text.chars().count() <= 2_000,
            "{}",
            post.text.chars().count()
        );
    }
    summary(
        "schedule (20 deadlines, 6 milestones each, a digest) and a post for 10,000 connections",
        rounds,
    );

    let points: Vec<(DateTime<Utc>, u64)> = (0..400)
        .map(|i| (now - TimeDelta::hours(400 - i), 12_000 - (i as u64) * 25))
        .collect();
    let burndown = Burndown {
        points,
        deadlines: deadlines
            .iter()
            .map(|d| (d.due, d.title.to_string()))
            .collect(),
        now,
        timezone: "Europe/Berlin".parse().expect("zone"),
    };
    let mut charts = Vec::with_capacity(CHARTS);
    for _ in 0..CHARTS {
        let started = Instant::now();
        let png = chart::render(&burndown).expect("renders");
        charts.push(started.elapsed());
        assert!(png.len() > 1_000);
    }
    summary(
        "the burndown chart (400 points, 20 deadlines), as PNG",
        charts,
    );
}
