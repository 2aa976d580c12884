//! Reminders that post themselves: a milestone post at each `reminders.before` offset of
//! each deadline and a working-day digest, each exactly once — across restarts, outages
//! and a second instance on the same database — with a burndown chart. Discord gets them
//! in the reminders channel; without a bot token, the terminal prints them.

pub mod chart;
mod deliver;
pub mod post;
pub mod schedule;

use crate::clock::SharedClock;
use crate::domain::{Deadline, HumanDuration, Snowflake, TimeZoneName};
use crate::heartbeat::Heartbeat;
use crate::markdown::escape;
use crate::metrics::Metrics;
use crate::settings::ReminderSettings;
use crate::store::{OwnerWork, PostClaim, PostKind, Progress, ReminderState, Store};
use chart::Burndown;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use deliver::SendError;
use post::{Pending, Post};
use schedule::{Calendar, Slot, SlotKind, LATE};
use serenity::all::Http;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// The scheduler never sleeps longer than this: the wall clock is asked again.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// A claim not renewed for this long is taken over (its process stopped). A sender
/// renews it before each try, and a try lasts at most `deliver::SEND_TIMEOUT` and a
/// backoff: well within.
pub const LEASE: TimeDelta = TimeDelta::seconds(45);
/// A claim left unsent is sent again only this soon after it was first claimed: Discord
/// de-duplicates a nonce for "a few minutes". Later, whether it went out cannot be known,
/// so the catch-up post names it instead of a possible second message.
const RESEND_WINDOW: TimeDelta = TimeDelta::seconds(150);
/// Sends of one post within a round, before its claim is left for a later round.
const TRIES: u32 = 3;
/// Connections named per owner in a post, at most (each owner's count says the rest).
const NAMES_PER_OWNER: u32 = 25;

/// A reminder for the terminal: its text, and where the chart was saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderEvent {
    pub text: String,
    pub chart: Option<PathBuf>,
}

/// A post the schedule will make, for `/cutover reminders preview`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upcoming {
    pub at: DateTime<Utc>,
    pub what: String,
}

/// Where this round's posts go.
enum Outlet {
    Discord(Arc<Http>, Snowflake),
    Terminal,
}

impl Outlet {
    /// The claims' channel: posts are claimed per place they go.
    fn channel(&self) -> String {
        match self {
            Outlet::Discord(_, channel) => channel.to_string(),
            Outlet::Terminal => "terminal".to_owned(),
        }
    }
}

/// What came of a send, for the round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// Sent, given up, left for a later round, or taken over: the round goes on.
    Done,
    /// The channel refused (gone, or no permission): reminders are paused.
    ChannelRefused,
}

/// Everything a round needs to say things.
struct Context {
    deadlines: Vec<Deadline>,
    progress: Progress,
    owners: Vec<OwnerWork>,
}

/// What [`Reminders::plan_round`] found.
pub enum Round {
    /// Nothing to post (no outlet, a first round, or paused); the next slot's instant.
    Idle(Option<DateTime<Utc>>),
    Planned(Box<PlannedRound>),
}

/// A planned round, to be carried out by the same process.
pub struct PlannedRound {
    now: DateTime<Utc>,
    outlet: Outlet,
    channel: String,
    watermark: DateTime<Utc>,
    plan: schedule::Plan,
    context: Context,
}

fn post_kind(slot: &Slot) -> PostKind {
    match slot.kind {
        SlotKind::Milestone { .. } => PostKind::Milestone,
        SlotKind::Digest { .. } => PostKind::Digest,
    }
}

pub struct Reminders {
    store: Store,
    clock: SharedClock,
    settings: ReminderSettings,
    configured_deadlines: Vec<Deadline>,
    /// With a bot token: posts go to the reminders channel.
    discord: Option<Arc<Http>>,
    events: broadcast::Sender<ReminderEvent>,
    /// Where the terminal's charts are saved.
    chart_dir: PathBuf,
    heartbeat: Heartbeat,
    metrics: Arc<Metrics>,
    /// Names this process in its claims.
    instance: String,
}

impl Reminders {
    pub fn new(
        store: Store,
        clock: SharedClock,
        settings: ReminderSettings,
        configured_deadlines: Vec<Deadline>,
        discord: Option<Arc<Http>>,
        chart_dir: PathBuf,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (events, _) = broadcast::channel(16);
        Self {
            metrics,
            store,
            heartbeat: Heartbeat::new(Arc::clone(&clock)),
            clock,
            settings,
            configured_deadlines,
            discord,
            events,
            chart_dir,
            instance: format!("cutover-{:08x}", rand::random::<u32>()),
        }
    }

    pub fn timezone(&self) -> TimeZoneName {
        self.settings.timezone
    }

    /// `reminders.channel_id` from the configuration (admins may set another from chat).
    pub fn configured_channel(&self) -> Option<Snowflake> {
        self.settings.channel_id
    }

    /// Deadlines or settings changed: the scheduler looks again at once.
    pub fn wake(&self) {
        self.heartbeat.wake();
    }

    /// Wakes the scheduler and waits until a round that started after this call has
    /// finished (tests move the clock, then tick; a round is bounded by its sends).
    pub async fn tick(&self) {
        self.heartbeat.tick().await;
    }

    /// Reminders for a terminal. Subscribing wakes the scheduler, so the terminal's first
    /// round (from which on it is told what falls due) happens as it starts.
    pub fn subscribe(&self) -> broadcast::Receiver<ReminderEvent> {
        let receiver = self.events.subscribe();
        self.wake();
        receiver
    }

    /// The scheduler's pulse for /readyz.
    pub fn heartbeat(&self) -> &Heartbeat {
        &self.heartbeat
    }

    /// The scheduler: a round, then sleep until the next post is due (a minute at most,
    /// then the wall clock is asked again) or until woken.
    pub async fn run(self: Arc<Self>) {
        self.heartbeat.begin();
        loop {
            self.heartbeat.round_starts();
            let next = match self.round().await {
                Ok(next) => next,
                Err(e) => {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "a reminders round failed; trying again"
                    );
                    None
                }
            };
            self.heartbeat.round_finished();
            let wait = next
                .and_then(|at| (at - self.clock.now()).to_std().ok())
                .unwrap_or(MAX_SLEEP)
                .min(MAX_SLEEP);
            self.heartbeat.rest(wait).await;
        }
    }

    fn calendar<'a>(&'a self, deadlines: &'a [Deadline]) -> Calendar<'a> {
        Calendar {
            deadlines,
            before: &self.settings.before,
            digest_at: self.settings.digest_at.map(|t| t.time()),
            timezone: self.settings.timezone.tz(),
            skip_dates: &self.settings.skip_dates,
        }
    }

    /// Every deadline, configured and added from chat, soonest first.
    pub async fn deadlines(&self) -> anyhow::Result<Vec<Deadline>> {
        let mut all = self.configured_deadlines.clone();
        all.extend(self.store.list_deadlines().await?);
        all.sort_by_key(|d| d.due);
        Ok(all)
    }

    /// Where posts go: the reminders channel (with a bot token), else a terminal that
    /// listens. `None`: nowhere, and no channel's watermark moves.
    fn outlet(&self, state: ReminderState) -> Option<Outlet> {
        match &self.discord {
            Some(http) => state
                .channel
                .or(self.settings.channel_id)
                .map(|channel| Outlet::Discord(Arc::clone(http), channel)),
            None if self.events.receiver_count() > 0 => Some(Outlet::Terminal),
            None => None,
        }
    }

    /// Whether reminders go to Discord (a bot token is set) rather than the terminal.
    pub fn posts_to_discord(&self) -> bool {
        self.discord.is_some()
    }

    /// One round: what is due is claimed and sent; what fell due while cutover was away
    /// becomes one catch-up post; the watermark moves to now. The next slot's instant.
    pub async fn round(&self) -> anyhow::Result<Option<DateTime<Utc>>> {
        match self.plan_round().await? {
            Round::Idle(next) => Ok(next),
            Round::Planned(planned) => self.carry_out(*planned).await,
        }
    }

    /// A round's first half, which only reads: where posts go and what falls due. Two
    /// instances may both plan the same posts; the claims in [`Self::carry_out`] decide
    /// which sends each (tests plan on both before either claims).
    pub async fn plan_round(&self) -> anyhow::Result<Round> {
        let now = self.clock.now();
        let deadlines = self.deadlines().await?;
        let next = self
            .calendar(&deadlines)
            .upcoming(now, 1, true)
            .first()
            .map(|s| s.at);
        let state = self.store.reminder_state().await?;
        let Some(outlet) = self.outlet(state) else {
            return Ok(Round::Idle(next));
        };
        let channel = outlet.channel();
        let Some(watermark) = self.store.reminder_watermark(&channel).await? else {
            // The first round for this channel: nothing of the past is announced.
            self.store.advance_reminder_watermark(&channel, now).await?;
            return Ok(Round::Idle(next));
        };
        if state.paused {
            // Paused: what falls due meanwhile is not replayed on resume.
            self.store.advance_reminder_watermark(&channel, now).await?;
            return Ok(Round::Idle(next));
        }
        let progress = self.store.progress().await?;
        let claimed = self
            .store
            .claimed_reminders(&channel, watermark.min(now - LATE) - TimeDelta::seconds(1))
            .await?;
        let plan = schedule::plan(
            &self.calendar(&deadlines),
            &claimed,
            watermark,
            now,
            progress.total.saturating_sub(progress.migrated),
        );
        let context = Context {
            progress,
            owners: self.store.pending_owners(NAMES_PER_OWNER).await?,
            deadlines,
        };
        Ok(Round::Planned(Box::new(PlannedRound {
            now,
            outlet,
            channel,
            watermark,
            plan,
            context,
        })))
    }

    /// A round's second half: superseded posts are recorded, the rest claimed and sent
    /// (each by the one process whose claim won), stale claims taken over, the
    /// watermark moved.
    pub async fn carry_out(&self, round: PlannedRound) -> anyhow::Result<Option<DateTime<Utc>>> {
        let PlannedRound {
            now,
            outlet,
            channel,
            watermark,
            plan,
            context,
        } = round;
        let calendar = self.calendar(&context.deadlines);
        let superseded: Vec<_> = plan
            .superseded
            .iter()
            .map(|s| (s.key.clone(), post_kind(s), s.at))
            .collect();
        self.store
            .supersede_reminders(&channel, &superseded, &self.instance, self.clock.now())
            .await?;
        let (stale, too_old) = self
            .store
            .take_over_stale_reminders(&channel, LEASE, RESEND_WINDOW, &self.instance, now)
            .await?;

        let missed = plan
            .missed
            .iter()
            .map(|s| (s.key.clone(), s.at))
            .chain(too_old);
        let caught_up = self
            .catch_up(&outlet, &channel, watermark, missed, &calendar, &context)
            .await?;
        if caught_up == Delivery::ChannelRefused {
            return Ok(plan.next);
        }
        let due = self
            .send_due(&outlet, &channel, &plan, &calendar, &context)
            .await?;
        if due == Delivery::ChannelRefused {
            return Ok(plan.next);
        }
        // Sent again last: they are late already; fresh posts go first.
        let stale = self.send_stale(&outlet, stale, &calendar, &context).await?;
        if stale == Delivery::ChannelRefused {
            return Ok(plan.next);
        }
        self.store.advance_reminder_watermark(&channel, now).await?;
        Ok(plan.next)
    }

    /// The plan's due posts, each claimed and, if this process won the claim, sent.
    async fn send_due(
        &self,
        outlet: &Outlet,
        channel: &str,
        plan: &schedule::Plan,
        calendar: &Calendar<'_>,
        context: &Context,
    ) -> anyhow::Result<Delivery> {
        // A digest superseded by a milestone leaves its chart to that milestone: the day
        // still gets its burndown.
        let mut chart_owed = plan
            .superseded
            .iter()
            .any(|s| matches!(s.kind, SlotKind::Digest { .. }));
        for slot in &plan.due {
            let Some(claim) = self
                .store
                .claim_reminder(
                    &slot.key,
                    channel,
                    post_kind(slot),
                    slot.at,
                    &self.instance,
                    self.clock.now(),
                )
                .await?
            else {
                continue;
            };
            let Some(mut post) = self.slot_post(calendar, slot, context) else {
                continue;
            };
            post.chart |= std::mem::take(&mut chart_owed);
            if self.send(outlet, &claim, &post).await? == Delivery::ChannelRefused {
                return Ok(Delivery::ChannelRefused);
            }
        }
        Ok(Delivery::Done)
    }

    /// The claims this process took over, sent again; one whose deadline is gone fails.
    async fn send_stale(
        &self,
        outlet: &Outlet,
        stale: Vec<PostClaim>,
        calendar: &Calendar<'_>,
        context: &Context,
    ) -> anyhow::Result<Delivery> {
        for claim in stale {
            tracing::info!(key = %claim.key, tries = claim.tries, "sending a reminder whose claim went stale");
            match self.post_for(&claim, calendar, context).await? {
                Some(post) => {
                    if self.send(outlet, &claim, &post).await? == Delivery::ChannelRefused {
                        return Ok(Delivery::ChannelRefused);
                    }
                }
                None => {
                    // Its deadline was removed or changed: it can no longer be said.
                    self.store
                        .fail_reminder(&claim, "its deadline is gone", false, self.clock.now())
                        .await?
                }
            }
        }
        Ok(Delivery::Done)
    }

    /// What fell due while away (and claims left unsent too long to send safely): one
    /// post, keyed by where this channel's last round stopped, so that two instances
    /// catching up at once make one.
    async fn catch_up(
        &self,
        outlet: &Outlet,
        channel: &str,
        watermark: DateTime<Utc>,
        fell_due: impl Iterator<Item = (String, DateTime<Utc>)>,
        calendar: &Calendar<'_>,
        context: &Context,
    ) -> anyhow::Result<Delivery> {
        let mut missed: Vec<(String, DateTime<Utc>)> = Vec::new();
        for (key, at) in fell_due {
            if !missed.iter().any(|(k, _)| *k == key) {
                missed.push((key, at));
            }
        }
        if missed.is_empty() {
            return Ok(Delivery::Done);
        }
        let key = schedule::catch_up_key(watermark);
        let Some(claim) = self
            .store
            .claim_catch_up(&key, channel, &missed, &self.instance, self.clock.now())
            .await?
        else {
            return Ok(Delivery::Done);
        };
        let post = post::catch_up(
            &self.named(calendar, &missed),
            context.progress,
            self.pending(context),
        );
        self.send(outlet, &claim, &post).await
    }

    fn pending<'a>(&self, context: &'a Context) -> Pending<'a> {
        Pending {
            owners: &context.owners,
            left: context
                .progress
                .total
                .saturating_sub(context.progress.migrated),
        }
    }

    /// What missed posts were, in words.
    fn named(
        &self,
        calendar: &Calendar<'_>,
        missed: &[(String, DateTime<Utc>)],
    ) -> Vec<(String, DateTime<Utc>)> {
        missed
            .iter()
            .map(|(key, at)| {
                let what = calendar
                    .between(*at - TimeDelta::seconds(1), *at)
                    .into_iter()
                    .find(|s| &s.key == key)
                    .map_or_else(|| "a reminder".to_owned(), |s| describe(calendar, &s));
                (what, *at)
            })
            .collect()
    }

    fn slot_post(&self, calendar: &Calendar<'_>, slot: &Slot, context: &Context) -> Option<Post> {
        Some(match &slot.kind {
            SlotKind::Milestone { deadline, before } => post::milestone(
                calendar.deadlines.get(*deadline)?,
                *before,
                self.clock.now(),
                context.progress,
                self.pending(context),
            ),
            SlotKind::Digest { .. } => post::digest(
                &context.deadlines,
                self.clock.now(),
                context.progress,
                self.pending(context),
            ),
        })
    }

    /// The post a claim taken over stands for, rebuilt from its key.
    async fn post_for(
        &self,
        claim: &PostClaim,
        calendar: &Calendar<'_>,
        context: &Context,
    ) -> anyhow::Result<Option<Post>> {
        if claim.kind == PostKind::CatchUp {
            let missed = self.store.missed_with(claim).await?;
            return Ok(Some(post::catch_up(
                &self.named(calendar, &missed),
                context.progress,
                self.pending(context),
            )));
        }
        let slot = calendar
            .between(claim.due_at - TimeDelta::seconds(1), claim.due_at)
            .into_iter()
            .find(|s| s.key == claim.key);
        Ok(slot.and_then(|slot| self.slot_post(calendar, &slot, context)))
    }

    /// Sends a claimed post. Failures that may pass are retried with backoff, each try
    /// renewing the claim (so no other process takes it over meanwhile), then left to a
    /// later round; a channel that refuses pauses reminders.
    async fn send(
        &self,
        outlet: &Outlet,
        claim: &PostClaim,
        post: &Post,
    ) -> anyhow::Result<Delivery> {
        let chart = if post.chart {
            self.drawn_chart().await
        } else {
            None
        };
        match outlet {
            Outlet::Terminal => self.print(claim, post, chart.as_deref()).await,
            Outlet::Discord(http, channel) => {
                self.post_in_discord(http, *channel, claim, post, chart.as_deref())
                    .await
            }
        }
    }

    /// The burndown chart, or None (and a warning) when it cannot be drawn.
    async fn drawn_chart(&self) -> Option<Vec<u8>> {
        match self.chart().await {
            Ok(png) => Some(png),
            Err(e) => {
                tracing::warn!(error = %e, "the burndown chart could not be drawn; posting without it");
                None
            }
        }
    }

    /// Hands the post to the terminal (the chart saved to a file), and marks it sent.
    async fn print(
        &self,
        claim: &PostClaim,
        post: &Post,
        chart: Option<&[u8]>,
    ) -> anyhow::Result<Delivery> {
        let saved = match chart {
            Some(png) => self
                .save_chart(png)
                .map_err(|e| tracing::warn!(error = %e, "could not save the chart"))
                .ok(),
            None => None,
        };
        let _ = self.events.send(ReminderEvent {
            text: post.text.clone(),
            chart: saved,
        });
        self.mark_sent(claim, "terminal").await?;
        Ok(Delivery::Done)
    }

    /// Posts in the Discord channel, up to `TRIES` times with backoff while Discord may
    /// take it later, renewing the claim before each try.
    async fn post_in_discord(
        &self,
        http: &Http,
        channel: Snowflake,
        claim: &PostClaim,
        post: &Post,
        chart: Option<&[u8]>,
    ) -> anyhow::Result<Delivery> {
        for try_number in 1..=TRIES {
            if !self
                .store
                .renew_reminder_claim(claim, self.clock.now())
                .await?
            {
                tracing::info!(key = %claim.key, "another process has taken this reminder over");
                return Ok(Delivery::Done);
            }
            match deliver::to_discord(http, channel, claim, post, chart).await {
                Ok(message) => {
                    self.mark_sent(claim, &message).await?;
                    tracing::info!(key = %claim.key, channel = %channel, "reminder posted");
                    return Ok(Delivery::Done);
                }
                Err(SendError::Retry(why)) => {
                    tracing::warn!(key = %claim.key, why, try_number, "a reminder did not go out; retrying");
                    if try_number < TRIES {
                        tokio::time::sleep(Duration::from_millis(500 * 2u64.pow(try_number - 1)))
                            .await;
                    }
                }
                Err(SendError::Channel(why)) => return self.pause_for(claim, channel, &why).await,
                Err(SendError::Refused(why)) => {
                    tracing::error!(key = %claim.key, why, "Discord refused a reminder");
                    self.store
                        .fail_reminder(claim, &why, false, self.clock.now())
                        .await?;
                    return Ok(Delivery::Done);
                }
            }
        }
        Ok(Delivery::Done)
    }

    /// Records the post as sent (`message`: where it went) and counts it.
    async fn mark_sent(&self, claim: &PostClaim, message: &str) -> anyhow::Result<()> {
        self.store
            .mark_reminder_sent(claim, message, self.clock.now())
            .await?;
        self.metrics.reminder_sent(claim.kind.as_str());
        Ok(())
    }

    /// The channel refused the post (`why`): the post fails and reminders pause, with
    /// what to do for the next admin.
    async fn pause_for(
        &self,
        claim: &PostClaim,
        channel: Snowflake,
        why: &str,
    ) -> anyhow::Result<Delivery> {
        let problem = format!(
            "Reminders are paused: posting in <#{channel}> failed ({}). Check that the channel exists \
             and that cutover may post there; then set it with /cutover reminders channel and run \
             /cutover reminders resume.",
            escape(why)
        );
        tracing::error!(key = %claim.key, why, "reminders paused: the channel refused the post");
        self.store
            .fail_reminder(claim, &problem, true, self.clock.now())
            .await?;
        Ok(Delivery::ChannelRefused)
    }

    /// The burndown as it stands: the audit log's history up to now.
    pub async fn burndown(&self) -> anyhow::Result<Burndown> {
        let progress = self.store.progress().await?;
        let now = self.clock.now();
        let mut points = self.store.progress_history().await?;
        let left = progress.total.saturating_sub(progress.migrated);
        points.push((now, left));
        let deadlines = self
            .deadlines()
            .await?
            .into_iter()
            .map(|d| (d.due, d.title.to_string()))
            .collect();
        Ok(Burndown {
            points,
            deadlines,
            now,
            timezone: self.settings.timezone.tz(),
        })
    }

    async fn chart(&self) -> anyhow::Result<Vec<u8>> {
        let burndown = self.burndown().await?;
        Ok(tokio::task::spawn_blocking(move || chart::render(&burndown)).await??)
    }

    /// The chart as a PNG (for `/progress`).
    pub async fn chart_png(&self) -> anyhow::Result<(Vec<u8>, Option<DateTime<Utc>>)> {
        let burndown = self.burndown().await?;
        let finish = chart::projected_finish(&burndown.points, burndown.now);
        let png = tokio::task::spawn_blocking(move || chart::render(&burndown)).await??;
        Ok((png, finish))
    }

    /// The chart as SVG (for the campaign page).
    pub async fn chart_svg(&self) -> anyhow::Result<String> {
        let burndown = self.burndown().await?;
        Ok(tokio::task::spawn_blocking(move || chart::render_svg(&burndown)).await??)
    }

    /// Saves a chart for the terminal; its path.
    pub fn save_chart(&self, png: &[u8]) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.chart_dir)?;
        let path = self.chart_dir.join(format!(
            "burndown-{}.png",
            self.clock.now().format("%Y%m%d-%H%M%S")
        ));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// The next `count` posts, as `/cutover reminders preview` lists them.
    pub async fn preview(&self, count: usize) -> anyhow::Result<Vec<Upcoming>> {
        let deadlines = self.deadlines().await?;
        let calendar = self.calendar(&deadlines);
        let progress = self.store.progress().await?;
        let left = progress.total.saturating_sub(progress.migrated);
        Ok(calendar
            .upcoming(self.clock.now(), count, left > 0)
            .iter()
            .map(|s| Upcoming {
                at: s.at,
                what: describe(&calendar, s),
            })
            .collect())
    }
}

/// A slot in words: "7 days before **Zoom disables JWT**", "the digest".
fn describe(calendar: &Calendar<'_>, slot: &Slot) -> String {
    match &slot.kind {
        SlotKind::Milestone { deadline, before } => {
            let title = calendar
                .deadlines
                .get(*deadline)
                .map(|d| escape(d.title.as_str()))
                .unwrap_or_default();
            if *before == HumanDuration::from_seconds(0) {
                format!("**{title}** falls due")
            } else {
                format!("{} before **{title}**", post::spoken(*before))
            }
        }
        SlotKind::Digest { date } => format!("the digest of {}", weekday(*date)),
    }
}

fn weekday(date: NaiveDate) -> String {
    date.format("%A %-d %B").to_string()
}
