"""Generate: text for the shopper — product copy, explanations, comparisons, answers — from pluggable LLM backends
(``llamacpp``, ``openai``, ``template``), grounded in product facts and checked before it is shown.

Imports only ``catalog``, ``config`` and ``errors``.
"""

from daogou.generate.base import BACKENDS, Capabilities, LLMBackend, LLMConfig, Request, get_backend
from daogou.generate.facts import Facts, Reasons, facts_of
from daogou.generate.grounding import Checker, Lexicon, Violation
from daogou.generate.prompts import PROMPT_VERSION
from daogou.generate.tasks import Task, answer_task, compare_task, copy_task, explain_task
from daogou.generate.writer import Chunk, Done, Reset, Result, Stats, Writer, WriterConfig

__all__ = ["BACKENDS", "PROMPT_VERSION", "Capabilities", "Checker", "Chunk", "Done", "Facts", "LLMBackend", "LLMConfig",
           "Lexicon", "Reasons", "Request", "Reset", "Result", "Stats", "Task", "Violation", "Writer",
           "WriterConfig", "answer_task", "compare_task", "copy_task", "explain_task", "facts_of",
           "get_backend"]
