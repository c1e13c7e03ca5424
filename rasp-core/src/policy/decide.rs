//! The decision for one detection, from one policy snapshot.
//!
//! Order of precedence, most specific first: the allowlists (any match
//! allows), the route's action, the sink id's action, the sink class's
//! action, the global mode. A `block` outcome then passes the canary: only
//! requests whose canary bucket (drawn at random by the server when the
//! request's context was built) falls inside the canary percentage are
//! blocked, the others are monitored. Nothing here allocates.

use super::cache::{RequestDecision, SiteDecision, get_or};
use super::compile::{Level, Policy};
use super::file::{Action, OnError};
use crate::class::SinkClass;
use crate::context::RequestContext;
use crate::decision::Decision;
use crate::sink::SinkSite;
use crate::telemetry::{Rule, Verdict};

impl Policy {
    /// Decides a detection at `site` during the request `ctx`.
    ///
    /// The sink's rule is read from the site's [`DecisionSlot`] and the
    /// request's route and allowlisting from the context's, each resolved
    /// once per policy: a repeated detection costs two atomic loads and a
    /// comparison with the request's canary bucket.
    ///
    /// [`DecisionSlot`]: crate::DecisionSlot
    #[inline]
    pub fn decide(&self, site: &SinkSite, ctx: &RequestContext) -> Verdict {
        let own = get_or(site.slot(), self.generation, || {
            self.site_decision(site.id(), site.class())
        });
        let request = get_or(ctx.policy_slot(), self.generation, || {
            self.request_decision(ctx)
        });
        self.verdict(own, request, ctx)
    }

    /// Decides a detection at the sink `sink_id` of class `kind` during the
    /// request `ctx`, without caches: for replaying recorded detections
    /// against a policy that is not installed, where no `static` sink site
    /// exists. The canary side is the one `ctx` drew, not the recorded
    /// request's.
    pub fn decide_at(&self, sink_id: &str, kind: SinkClass, ctx: &RequestContext) -> Verdict {
        self.verdict(
            self.site_decision(sink_id, kind),
            self.request_decision(ctx),
            ctx,
        )
    }

    fn site_decision(&self, id: &str, kind: SinkClass) -> SiteDecision {
        let own = self.sink_entry(id);
        SiteDecision {
            rule: self.resolve_site(own, kind),
            allow: own.is_some_and(|e| e.allow),
        }
    }

    fn request_decision(&self, ctx: &RequestContext) -> RequestDecision {
        RequestDecision {
            route: self.route_entry(ctx.route()).copied().unwrap_or_default(),
            allowlisted: self.allowlisted_requester(ctx.client_ip(), ctx.user(), ctx.tenant()),
        }
    }

    #[inline]
    fn verdict(
        &self,
        own: SiteDecision,
        request: RequestDecision,
        ctx: &RequestContext,
    ) -> Verdict {
        let verdict = |decision, rule| Verdict {
            decision,
            rule,
            revision: Some(self.revision),
            masking: self.masking,
        };
        if own.allow || request.route.allow || request.allowlisted {
            return verdict(Decision::Allow, Rule::Allowlist);
        }
        let (mut action, mut canary, mut level) = (own.rule.action, own.rule.canary, own.rule.from);
        if let Some(a) = request.route.action {
            action = a;
            level = Level::Route;
        }
        canary = request.route.canary.unwrap_or(canary);
        let rule = match level {
            Level::Mode => Rule::Mode,
            Level::Class => Rule::Class,
            Level::Sink => Rule::Sink,
            Level::Route => Rule::Route,
        };
        match action {
            Action::Allow => verdict(Decision::Allow, rule),
            Action::Monitor => verdict(Decision::Monitor, rule),
            Action::Block if in_canary(ctx, canary) => verdict(Decision::Block, rule),
            Action::Block => verdict(Decision::Monitor, Rule::Canary),
        }
    }

    /// What a detector failure at `site` does: `Open` allows the call,
    /// `Closed` refuses it.
    pub fn on_error(&self, site: &SinkSite) -> OnError {
        get_or(site.slot(), self.generation, || {
            self.site_decision(site.id(), site.class())
        })
        .rule
        .on_error
    }
}

/// Whether the request `ctx` falls inside a canary of `percent` %.
///
/// The request's bucket ([`EntryMark::canary_bucket`]) is a random draw the
/// server made when the context was built. Nothing a client sends (its
/// request id, address or headers) moves it, so a client cannot choose to
/// land outside the canary: every request, attacker's or not, is blocked
/// with probability `percent` %. The request id stays what it is for, the
/// correlation of events and logs.
///
/// [`EntryMark::canary_bucket`]: super::entry::EntryMark::canary_bucket
#[inline]
pub fn in_canary(ctx: &RequestContext, percent: u8) -> bool {
    match percent {
        0 => false,
        100.. => true,
        _ => ctx.entry_mark().canary_bucket() < percent,
    }
}
