"""Answering questions with verified citations: routing, extractive answers, the optional LLM.

``AnswerService(store, gazetteer, retriever, settings, chat_model).ask(question)`` is the entry
point; ``route_question`` says which route answers; ``verify_citation`` is the check every
citation passes before it is shown.
"""

from assistant.answer.citations import AnswerResult, Citation, StreamEvent, verify_citation
from assistant.answer.route import MetaField, Route, RoutedQuestion, route_question
from assistant.answer.service import AnswerService

__all__ = [
    "AnswerResult",
    "AnswerService",
    "Citation",
    "MetaField",
    "Route",
    "RoutedQuestion",
    "StreamEvent",
    "route_question",
    "verify_citation",
]
