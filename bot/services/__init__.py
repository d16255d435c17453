"""Lantern's use cases, each written once and owning its transaction; nothing of Discord.

``build_services`` is the one place that wires them: each service gets the shared ``Context``
and the services below it (see CONTRIBUTING.md for the order); a pair ending reaches matching
as the typed ``PairEnded`` event, and a vanished space reaches circles, both subscribed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config import Config
from bot.crypto import Cipher
from bot.db.engine import Database
from bot.services.circles import CirclesService, circle_space
from bot.services.context import Context
from bot.services.delivery import DeliveryService
from bot.services.events import Events
from bot.services.feedback import FeedbackService
from bot.services.insights import InsightsService
from bot.services.matching import MatchingService
from bot.services.meeting import MeetingService
from bot.services.member_data import MemberDataService
from bot.services.moderation import ModerationService
from bot.services.onboarding import OnboardingService
from bot.services.pairs import PairsService
from bot.services.ports import Compute, DmSender, Jobs, Messenger, Spaces
from bot.services.prompts import PromptsService
from bot.services.reflections import ReflectionsService
from bot.services.setup import SetupService


@dataclass(frozen=True)
class Services:
    """Every service of one bot, reached as ``bot.services.<feature>``."""

    ctx: Context
    setup: SetupService
    moderation: ModerationService
    prompts: PromptsService
    delivery: DeliveryService
    reflections: ReflectionsService
    pairs: PairsService
    matching: MatchingService
    circles: CirclesService
    onboarding: OnboardingService
    member_data: MemberDataService
    feedback: FeedbackService
    insights: InsightsService
    meeting: MeetingService


def build_services(
    *,
    database: Database,
    cipher: Cipher,
    config: Config,
    clock: Callable[[], datetime],
    messenger: Messenger,
    jobs: Jobs,
    spaces: Spaces,
    dm_sender: DmSender,
    compute: Compute,
) -> Services:
    """Build every service, lowest first, and subscribe matching and feedback to pair endings."""
    ctx = Context(
        database=database,
        cipher=cipher,
        config=config,
        clock=clock,
        messenger=messenger,
        jobs=jobs,
        events=Events(),
        compute=compute,
    )
    moderation = ModerationService(ctx)
    setup = SetupService(ctx)

    prompts = PromptsService(ctx, moderation)

    delivery = DeliveryService(ctx, prompts, moderation, dm_sender)
    prompts.on_schedule_changed(delivery.arm)

    reflections = ReflectionsService(ctx, prompts)

    pairs = PairsService(ctx, moderation=moderation, spaces=spaces)
    meeting = MeetingService(ctx)

    matching = MatchingService(ctx, pairs=pairs, moderation=moderation)

    circles = CirclesService(ctx, pairs=pairs, moderation=moderation, spaces=spaces)
    meeting.add_resolver(circle_space)  # /meet answers in circle spaces too
    # A deleted space reaches pairs (the delete events, a failing post); one that is no pair's
    # is a circle's. A prompt that finds a space missing has it looked into the same way.
    pairs.on_space_vanished(circles.space_vanished)
    # A message reaches pairs (the one listener); one in a channel that is no pair's space may
    # be in a circle's.
    pairs.on_other_activity(circles.touch)
    delivery.on_space_missing(pairs.space_missing)

    onboarding = OnboardingService(ctx, matching, prompts, moderation)

    member_data = MemberDataService(ctx, onboarding, matching, circles, pairs, prompts)

    feedback = FeedbackService(ctx)
    insights = InsightsService(ctx)

    # Feedback first: the member is asked about the mentorship that ended before being offered
    # a new one.
    ctx.events.on_pair_ended(feedback.pair_ended)
    ctx.events.on_pair_ended(matching.pair_ended)

    return Services(
        ctx=ctx,
        setup=setup,
        moderation=moderation,
        prompts=prompts,
        delivery=delivery,
        reflections=reflections,
        pairs=pairs,
        matching=matching,
        circles=circles,
        onboarding=onboarding,
        member_data=member_data,
        feedback=feedback,
        insights=insights,
        meeting=meeting,
    )
