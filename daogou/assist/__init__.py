"""Assist: the multi-turn shopping guide. A conversation's constraints accumulate and can be revised; each turn
understands the message, retrieves with the hybrid search, personalises with the recommender, and explains with
the grounded writer.

Imports ``catalog``, ``search``, ``rec`` (duck-typed: anything with ``recommend``), ``generate``.
"""

from daogou.assist.engine import AssistConfig, Assistant, Card, Reply, Update
from daogou.assist.state import Constraints, Conversation, Conversations
from daogou.assist.understand import Understanding, understand

__all__ = ["AssistConfig", "Assistant", "Card", "Constraints", "Conversation", "Conversations", "Reply",
           "Understanding", "Update", "understand"]
