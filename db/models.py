"""SQLAlchemy 2 models of the eleven tables in shared/seed-schema.md; migration 0001 is their DDL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CHAR,
    REAL,
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The seed's columns are TIMESTAMP (without time zone) DEFAULT NOW(); values are UTC.
Timestamp = DateTime(timezone=False)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("idx_users_user_id", "user_id"),
        Index("idx_users_email", "email"),
        Index("idx_users_role", "role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    email: Mapped[str | None] = mapped_column(String(255), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(50), server_default=text("'student'"))
    created_at: Mapped[datetime | None] = mapped_column(Timestamp, server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp, server_default=func.now())
    last_login: Mapped[datetime | None] = mapped_column(Timestamp)
    is_active: Mapped[bool | None] = mapped_column(Boolean, server_default=text("true"))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)


class Course(Base):
    __tablename__ = "courses"
    __table_args__ = (
        Index("idx_courses_course_id", "course_id"),
        Index("idx_courses_created_by", "created_by"),
        Index("idx_courses_status", "status"),
        Index("idx_courses_created_at", text("created_at DESC")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(
        Integer, unique=True, nullable=False, server_default=text("nextval('courses_course_id_seq'::regclass)")
    )
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(
        String(100), ForeignKey("users.user_id", name="fk_created_by", ondelete="SET NULL")
    )
    created_at: Mapped[datetime | None] = mapped_column(Timestamp, server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp, server_default=func.now())
    status: Mapped[str | None] = mapped_column(String(50), server_default=text("'active'"))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)


class Module(Base):
    __tablename__ = "modules"
    __table_args__ = (
        UniqueConstraint("course_id", "week", name="unique_course_week"),
        Index("idx_modules_course_id", "course_id"),
        Index("idx_modules_week", "week"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("courses.course_id", name="fk_module_course", ondelete="CASCADE"), nullable=False
    )
    week: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    learning_objectives: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    order_index: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime | None] = mapped_column(Timestamp, server_default=func.now())


class Topic(Base):
    __tablename__ = "topics"
    __table_args__ = (
        Index("idx_topics_module_id", "module_id"),
        Index("idx_topics_order", "order_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    module_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("modules.id", name="fk_topic_module", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    order_index: Mapped[int | None] = mapped_column(Integer)
    estimated_time: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime | None] = mapped_column(Timestamp, server_default=func.now())


class Quiz(Base):
    __tablename__ = "quizzes"
    __table_args__ = (
        Index("idx_quizzes_quiz_id", "quiz_id"),
        Index("idx_quizzes_course_id", "course_id"),
        Index("idx_quizzes_module_id", "module_id"),
        Index("idx_quizzes_made_for", "made_for", postgresql_where=text("made_for IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    course_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("courses.course_id", name="fk_quiz_course", ondelete="CASCADE"), nullable=False
    )
    module_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("modules.id", name="fk_quiz_module", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    quiz_type: Mapped[str | None] = mapped_column(String(50), server_default=text("'module'"))
    passing_score: Mapped[int | None] = mapped_column(Integer, server_default=text("70"))
    time_limit: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime | None] = mapped_column(Timestamp, server_default=func.now())
    # 0013: the student a practice or review quiz was made for; NULL for the course's own quizzes.
    made_for: Mapped[str | None] = mapped_column(
        String(100), ForeignKey("users.user_id", name="fk_quiz_made_for", ondelete="CASCADE")
    )


class QuizQuestion(Base):
    __tablename__ = "quiz_questions"
    __table_args__ = (
        UniqueConstraint("quiz_id", "question_number", name="unique_quiz_question"),
        Index("idx_quiz_questions_quiz_id", "quiz_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("quizzes.quiz_id", name="fk_question_quiz", ondelete="CASCADE"), nullable=False
    )
    question_number: Mapped[int] = mapped_column(Integer, nullable=False)
    question_text: Mapped[str] = mapped_column(Text, nullable=False)
    options: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False)
    correct_answer: Mapped[str] = mapped_column(CHAR(1), nullable=False)
    explanation: Mapped[str | None] = mapped_column(Text)
    difficulty: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime | None] = mapped_column(Timestamp, server_default=func.now())
    reviewed_at: Mapped[datetime | None] = mapped_column(Timestamp)  # 0006: a teacher checked it (console)
    # 0009: a generated question of low confidence, kept for the teacher to review instead of dropped
    needs_review: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))


class QuizResponse(Base):
    __tablename__ = "quiz_responses"
    __table_args__ = (
        Index("idx_quiz_responses_quiz_id", "quiz_id"),
        Index("idx_quiz_responses_user_id", "user_id"),
        Index("idx_quiz_responses_submitted_at", text("submitted_at DESC")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("quizzes.quiz_id", name="fk_response_quiz", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("users.user_id", name="fk_response_user", ondelete="CASCADE"), nullable=False
    )
    answers: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False)
    score: Mapped[int | None] = mapped_column(Integer)
    total_questions: Mapped[int | None] = mapped_column(Integer)
    correct_answers: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None] = mapped_column(Timestamp, server_default=func.now())
    time_taken: Mapped[int | None] = mapped_column(Integer)


class Job(Base):
    __tablename__ = "job_queue"
    __table_args__ = (
        Index("idx_job_queue_job_id", "job_id"),
        Index("idx_job_queue_task_id", "task_id"),
        Index("idx_job_queue_status", "status"),
        Index("idx_job_queue_created_by", "created_by"),
        Index("idx_job_queue_created_at", text("created_at DESC")),
        Index("idx_job_queue_heartbeat", "heartbeat_at", postgresql_where=text("status = 'processing'")),  # 0007
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    task_id: Mapped[str | None] = mapped_column(String(100))
    job_type: Mapped[str] = mapped_column(String(50), nullable=False)
    status: Mapped[str | None] = mapped_column(String(50), server_default=text("'pending'"))
    progress: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(
        String(100), ForeignKey("users.user_id", name="fk_job_user", ondelete="SET NULL")
    )
    created_at: Mapped[datetime | None] = mapped_column(Timestamp, server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(Timestamp)
    completed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # 0002: the job's request
    # 0007: who runs it and when it last said so; a job without a recent heartbeat is stalled and retried.
    worker: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[datetime | None] = mapped_column(Timestamp)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))


class SourceFile(Base):
    __tablename__ = "source_files"
    __table_args__ = (
        Index("idx_source_files_file_id", "file_id"),
        Index("idx_source_files_course_id", "course_id"),
        Index("idx_source_files_uploaded_by", "uploaded_by"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    course_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("courses.course_id", name="fk_file_course", ondelete="CASCADE"), nullable=False
    )
    filename: Mapped[str] = mapped_column(String(500), nullable=False)
    file_path: Mapped[str | None] = mapped_column(String(1000))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    file_type: Mapped[str | None] = mapped_column(String(50))
    upload_date: Mapped[datetime | None] = mapped_column(Timestamp, server_default=func.now())
    uploaded_by: Mapped[str | None] = mapped_column(
        String(100), ForeignKey("users.user_id", name="fk_file_user", ondelete="SET NULL")
    )
    checksum: Mapped[str | None] = mapped_column(String(64))


class UserProgress(Base):
    __tablename__ = "user_progress"
    __table_args__ = (
        # NULLS NOT DISTINCT: the seed's intent (one row per user-course-module-topic) must hold for the
        # course-level row too, where module_id and topic_id are NULL.
        UniqueConstraint(
            "user_id",
            "course_id",
            "module_id",
            "topic_id",
            name="unique_user_progress",
            postgresql_nulls_not_distinct=True,
        ),
        Index("idx_user_progress_user_id", "user_id"),
        Index("idx_user_progress_course_id", "course_id"),
        Index("idx_user_progress_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("users.user_id", name="fk_progress_user", ondelete="CASCADE"), nullable=False
    )
    course_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("courses.course_id", name="fk_progress_course", ondelete="CASCADE"), nullable=False
    )
    module_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("modules.id", name="fk_progress_module", ondelete="CASCADE")
    )
    topic_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("topics.id", name="fk_progress_topic", ondelete="CASCADE")
    )
    status: Mapped[str | None] = mapped_column(String(50), server_default=text("'not_started'"))
    progress_percentage: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    last_accessed: Mapped[datetime | None] = mapped_column(Timestamp, server_default=func.now())
    completion_date: Mapped[datetime | None] = mapped_column(Timestamp)


class ChatMessage(Base):
    __tablename__ = "chat_history"
    __table_args__ = (
        Index("idx_chat_history_user_id", "user_id"),
        Index("idx_chat_history_session_id", "session_id"),
        Index("idx_chat_history_timestamp", text("timestamp DESC")),
        Index(  # 0007: replies in flight, found by the sweep for replies whose process died
            "idx_chat_history_streaming", "updated_at", postgresql_where=text("(metadata ->> 'status') = 'streaming'")
        ),
        Index("idx_chat_history_course_time", "course_id", "timestamp"),  # 0012: a course's messages by time
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("users.user_id", name="fk_chat_user", ondelete="CASCADE"), nullable=False
    )
    course_id: Mapped[int | None] = mapped_column(Integer)
    session_id: Mapped[str] = mapped_column(String(100), nullable=False)
    message_type: Mapped[str] = mapped_column(String(20), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    timestamp: Mapped[datetime | None] = mapped_column(Timestamp, server_default=func.now())
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp, server_default=func.now())  # 0007


class QuizAttempt(Base):
    """Not in the seed (0003): a conversational quiz in progress, kept in PostgreSQL to survive restarts."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'paused', 'finished', 'abandoned')", name="ck_attempt_status"),
        Index(
            "uq_quiz_attempts_open_session",
            "session_id",
            unique=True,
            postgresql_where=text("status IN ('running', 'paused')"),
        ),
        Index("idx_quiz_attempts_user_id", "user_id"),
        Index("idx_quiz_attempts_quiz_id", "quiz_id"),
        Index("idx_quiz_attempts_response_id", "response_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    session_id: Mapped[str] = mapped_column(String(100), nullable=False)
    user_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("users.user_id", name="fk_attempt_user", ondelete="CASCADE"), nullable=False
    )
    course_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("courses.course_id", name="fk_attempt_course", ondelete="CASCADE"), nullable=False
    )
    quiz_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("quizzes.quiz_id", name="fk_attempt_quiz", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'running'"))
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    question_numbers: Mapped[list[int]] = mapped_column(JSONB, nullable=False)
    answers: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    started_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=func.now())
    deadline: Mapped[datetime | None] = mapped_column(Timestamp)
    response_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("quiz_responses.id", name="fk_attempt_response", ondelete="SET NULL")
    )
    # 0004: the questions as asked (text, options, key, explanation), in order; NULL for older attempts.
    questions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)


class CourseChunk(Base):
    """Not in the seed (0005): an indexed chunk, the source of truth that the course's Chroma index is built from."""

    __tablename__ = "course_chunks"
    __table_args__ = (
        UniqueConstraint("chunk_id", name="uq_course_chunks_chunk_id"),
        Index("idx_course_chunks_course_id", "course_id", "id"),
        Index("idx_course_chunks_file_id", "file_id"),
        Index("idx_course_chunks_module_id", "module_id"),
        Index("idx_course_chunks_topic_id", "topic_id"),
        Index("idx_course_chunks_search", "search_vector", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    chunk_id: Mapped[str] = mapped_column(String(64), nullable=False)  # its id in Chroma
    course_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("courses.course_id", name="fk_chunk_course", ondelete="CASCADE"), nullable=False
    )
    file_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("source_files.file_id", name="fk_chunk_file", ondelete="CASCADE"), nullable=False
    )
    module_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("modules.id", name="fk_chunk_module", ondelete="SET NULL")
    )
    topic_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("topics.id", name="fk_chunk_topic", ondelete="SET NULL")
    )
    week: Mapped[int | None] = mapped_column(Integer)
    topic_title: Mapped[str] = mapped_column(String(500), nullable=False, server_default=text("''"))
    filename: Mapped[str] = mapped_column(String(500), nullable=False)
    page_start: Mapped[int] = mapped_column(Integer, nullable=False)
    page_end: Mapped[int] = mapped_column(Integer, nullable=False)
    chunk_index: Mapped[int] = mapped_column(Integer, nullable=False)  # its order within its topic
    text: Mapped[str] = mapped_column(Text, nullable=False)
    # 0014: text recognised by OCR on a scanned page, with the recognizer's mean confidence (0-1).
    ocr: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    ocr_confidence: Mapped[float | None] = mapped_column(REAL)
    search_vector: Mapped[str | None] = mapped_column(
        TSVECTOR, Computed("to_tsvector('english'::regconfig, text)", persisted=True)
    )
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=func.now())


class SentenceVector(Base):
    """Not in the seed (0012): a quotable sentence's embedding, by its text's hash and the model's name."""

    __tablename__ = "sentence_vectors"
    __table_args__ = (PrimaryKeyConstraint("course_id", "model", "text_hash", name="pk_sentence_vectors"),)

    course_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("courses.course_id", name="fk_sentence_vector_course", ondelete="CASCADE")
    )
    model: Mapped[str] = mapped_column(String(200))
    text_hash: Mapped[bytes] = mapped_column(LargeBinary)
    vector: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)  # float32, the model's dimension


class ReviewCard(Base):
    """Not in the seed (0008): the spaced-repetition state of one question for one student."""

    __tablename__ = "review_cards"
    __table_args__ = (
        UniqueConstraint("user_id", "question_id", name="uq_review_user_question"),
        Index("idx_review_cards_due", "user_id", "course_id", "due"),
        Index("idx_review_cards_course", "course_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("users.user_id", name="fk_review_user", ondelete="CASCADE"), nullable=False
    )
    course_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("courses.course_id", name="fk_review_course", ondelete="CASCADE"), nullable=False
    )
    question_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("quiz_questions.id", name="fk_review_question", ondelete="CASCADE"), nullable=False
    )
    topic_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("topics.id", name="fk_review_topic", ondelete="SET NULL")
    )
    card: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)  # the scheduler's card, as it stores it
    due: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    reviews: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    lapses: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    last_correct: Mapped[bool | None] = mapped_column(Boolean)
    last_reviewed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=func.now())


class TopicMastery(Base):
    """Not in the seed (0008): how well a student knows a topic, from every graded answer on it (0..1)."""

    __tablename__ = "topic_mastery"
    __table_args__ = (
        UniqueConstraint("user_id", "topic_id", name="uq_mastery_user_topic"),
        CheckConstraint("mastery >= 0 AND mastery <= 1", name="ck_mastery_range"),
        Index("idx_topic_mastery_course", "course_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("users.user_id", name="fk_mastery_user", ondelete="CASCADE"), nullable=False
    )
    course_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("courses.course_id", name="fk_mastery_course", ondelete="CASCADE"), nullable=False
    )
    topic_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("topics.id", name="fk_mastery_topic", ondelete="CASCADE"), nullable=False
    )
    mastery: Mapped[float] = mapped_column(Double, nullable=False)
    answers: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    correct: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=func.now())


class OutboxMessage(Base):
    """Not in the seed (0010): a message to another system, committed with the event it reports, delivered later."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("kind", "dedup_key", name="uq_outbox_kind_key"),
        Index("idx_outbox_due", "next_attempt_at", postgresql_where=text("delivered_at IS NULL AND failed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), nullable=False)
    dedup_key: Mapped[str] = mapped_column(String(200), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=func.now())
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=func.now())
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(Timestamp)
    failed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class LtiPlatform(Base):
    """Not in the seed (0011): an LMS registered by an admin (LTI 1.3: its issuer, our client id there, its URLs)."""

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_lti_platform"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255), nullable=False)
    client_id: Mapped[str] = mapped_column(String(255), nullable=False)
    deployment_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'"))
    jwks_url: Mapped[str] = mapped_column(Text, nullable=False)
    auth_login_url: Mapped[str] = mapped_column(Text, nullable=False)
    token_url: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=func.now())


class LtiToolKey(Base):
    """Not in the seed (0011): the tool's RSA signing key, generated once (the newest one signs)."""

    __tablename__ = "lti_tool_keys"
    __table_args__ = (UniqueConstraint("kid", name="uq_lti_tool_key_kid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), nullable=False)
    private_key_pem: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=func.now())


class LtiContext(Base):
    """Not in the seed (0011): an LMS course (context) and the tutor course its links open."""

    __tablename__ = "lti_contexts"
    __table_args__ = (
        UniqueConstraint("platform_id", "context_id", name="uq_lti_context"),
        Index("idx_lti_contexts_course", "course_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("lti_platforms.id", name="fk_lti_context_platform", ondelete="CASCADE"), nullable=False
    )
    context_id: Mapped[str] = mapped_column(String(255), nullable=False)
    title: Mapped[str | None] = mapped_column(String(500))
    course_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("courses.course_id", name="fk_lti_context_course", ondelete="SET NULL")
    )
    memberships_url: Mapped[str | None] = mapped_column(Text)
    lineitems_url: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=func.now())


class LtiLaunch(Base):
    """Not in the seed (0011): a user's latest launch into a course: their LMS role and where scores go back."""

    __tablename__ = "lti_launches"
    __table_args__ = (UniqueConstraint("user_id", "course_id", name="uq_lti_launch_user_course"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("users.user_id", name="fk_lti_launch_user", ondelete="CASCADE"), nullable=False
    )
    course_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("courses.course_id", name="fk_lti_launch_course", ondelete="CASCADE"), nullable=False
    )
    platform_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("lti_platforms.id", name="fk_lti_launch_platform", ondelete="CASCADE"), nullable=False
    )
    context_id: Mapped[str | None] = mapped_column(String(255))
    resource_link_id: Mapped[str | None] = mapped_column(String(255))
    quiz_id: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(50), nullable=False)
    lineitem_url: Mapped[str | None] = mapped_column(Text)
    lineitems_url: Mapped[str | None] = mapped_column(Text)
    ags_scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'"))
    updated_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=func.now())
