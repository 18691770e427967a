"""The seed schema (shared/seed-schema.md): eleven tables, their constraints, indexes and ON DELETE rules.

The DDL is the seed's own text so that review against the contract is line by line. One deliberate
change: unique_user_progress is NULLS NOT DISTINCT, so the course-level progress row (module_id and
topic_id NULL) is unique too, as the seed's comment intends.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = (
    "chat_history",
    "user_progress",
    "source_files",
    "job_queue",
    "quiz_responses",
    "quiz_questions",
    "quizzes",
    "topics",
    "modules",
    "courses",
    "users",
)

DDL = """
CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    user_id VARCHAR(100) UNIQUE NOT NULL,
    email VARCHAR(255) UNIQUE,
    full_name VARCHAR(255),
    role VARCHAR(50) DEFAULT 'student',
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW(),
    last_login TIMESTAMP,
    is_active BOOLEAN DEFAULT true,
    metadata JSONB
);
CREATE INDEX idx_users_user_id ON users(user_id);
CREATE INDEX idx_users_email ON users(email);
CREATE INDEX idx_users_role ON users(role);

CREATE TABLE courses (
    id SERIAL PRIMARY KEY,
    course_id INTEGER UNIQUE NOT NULL,
    title VARCHAR(500) NOT NULL,
    description TEXT,
    created_by VARCHAR(100),
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW(),
    status VARCHAR(50) DEFAULT 'active',
    metadata JSONB,
    CONSTRAINT fk_created_by FOREIGN KEY (created_by) REFERENCES users(user_id) ON DELETE SET NULL
);
CREATE INDEX idx_courses_course_id ON courses(course_id);
CREATE INDEX idx_courses_created_by ON courses(created_by);
CREATE INDEX idx_courses_status ON courses(status);
CREATE INDEX idx_courses_created_at ON courses(created_at DESC);

CREATE TABLE modules (
    id SERIAL PRIMARY KEY,
    course_id INTEGER NOT NULL,
    week INTEGER NOT NULL,
    title VARCHAR(500) NOT NULL,
    description TEXT,
    learning_objectives TEXT[],
    order_index INTEGER,
    created_at TIMESTAMP DEFAULT NOW(),
    CONSTRAINT fk_module_course FOREIGN KEY (course_id) REFERENCES courses(course_id) ON DELETE CASCADE,
    CONSTRAINT unique_course_week UNIQUE (course_id, week)
);
CREATE INDEX idx_modules_course_id ON modules(course_id);
CREATE INDEX idx_modules_week ON modules(week);

CREATE TABLE topics (
    id SERIAL PRIMARY KEY,
    module_id INTEGER NOT NULL,
    title VARCHAR(500) NOT NULL,
    content TEXT NOT NULL,
    order_index INTEGER,
    estimated_time INTEGER,
    created_at TIMESTAMP DEFAULT NOW(),
    CONSTRAINT fk_topic_module FOREIGN KEY (module_id) REFERENCES modules(id) ON DELETE CASCADE
);
CREATE INDEX idx_topics_module_id ON topics(module_id);
CREATE INDEX idx_topics_order ON topics(order_index);

CREATE TABLE quizzes (
    id SERIAL PRIMARY KEY,
    quiz_id VARCHAR(100) UNIQUE NOT NULL,
    course_id INTEGER NOT NULL,
    module_id INTEGER,
    title VARCHAR(500) NOT NULL,
    description TEXT,
    quiz_type VARCHAR(50) DEFAULT 'module',
    passing_score INTEGER DEFAULT 70,
    time_limit INTEGER,
    created_at TIMESTAMP DEFAULT NOW(),
    CONSTRAINT fk_quiz_course FOREIGN KEY (course_id) REFERENCES courses(course_id) ON DELETE CASCADE,
    CONSTRAINT fk_quiz_module FOREIGN KEY (module_id) REFERENCES modules(id) ON DELETE SET NULL
);
CREATE INDEX idx_quizzes_quiz_id ON quizzes(quiz_id);
CREATE INDEX idx_quizzes_course_id ON quizzes(course_id);
CREATE INDEX idx_quizzes_module_id ON quizzes(module_id);

CREATE TABLE quiz_questions (
    id SERIAL PRIMARY KEY,
    quiz_id VARCHAR(100) NOT NULL,
    question_number INTEGER NOT NULL,
    question_text TEXT NOT NULL,
    options JSONB NOT NULL,
    correct_answer CHAR(1) NOT NULL,
    explanation TEXT,
    difficulty VARCHAR(20),
    created_at TIMESTAMP DEFAULT NOW(),
    CONSTRAINT fk_question_quiz FOREIGN KEY (quiz_id) REFERENCES quizzes(quiz_id) ON DELETE CASCADE,
    CONSTRAINT unique_quiz_question UNIQUE (quiz_id, question_number)
);
CREATE INDEX idx_quiz_questions_quiz_id ON quiz_questions(quiz_id);

CREATE TABLE quiz_responses (
    id SERIAL PRIMARY KEY,
    quiz_id VARCHAR(100) NOT NULL,
    user_id VARCHAR(100) NOT NULL,
    answers JSONB NOT NULL,
    score INTEGER,
    total_questions INTEGER,
    correct_answers INTEGER,
    submitted_at TIMESTAMP DEFAULT NOW(),
    time_taken INTEGER,
    CONSTRAINT fk_response_quiz FOREIGN KEY (quiz_id) REFERENCES quizzes(quiz_id) ON DELETE CASCADE,
    CONSTRAINT fk_response_user FOREIGN KEY (user_id) REFERENCES users(user_id) ON DELETE CASCADE
);
CREATE INDEX idx_quiz_responses_quiz_id ON quiz_responses(quiz_id);
CREATE INDEX idx_quiz_responses_user_id ON quiz_responses(user_id);
CREATE INDEX idx_quiz_responses_submitted_at ON quiz_responses(submitted_at DESC);

CREATE TABLE job_queue (
    id SERIAL PRIMARY KEY,
    job_id VARCHAR(100) UNIQUE NOT NULL,
    task_id VARCHAR(100),
    job_type VARCHAR(50) NOT NULL,
    status VARCHAR(50) DEFAULT 'pending',
    progress INTEGER DEFAULT 0,
    message TEXT,
    result JSONB,
    error TEXT,
    created_by VARCHAR(100),
    created_at TIMESTAMP DEFAULT NOW(),
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    CONSTRAINT fk_job_user FOREIGN KEY (created_by) REFERENCES users(user_id) ON DELETE SET NULL
);
CREATE INDEX idx_job_queue_job_id ON job_queue(job_id);
CREATE INDEX idx_job_queue_task_id ON job_queue(task_id);
CREATE INDEX idx_job_queue_status ON job_queue(status);
CREATE INDEX idx_job_queue_created_by ON job_queue(created_by);
CREATE INDEX idx_job_queue_created_at ON job_queue(created_at DESC);

CREATE TABLE source_files (
    id SERIAL PRIMARY KEY,
    file_id VARCHAR(100) UNIQUE NOT NULL,
    course_id INTEGER NOT NULL,
    filename VARCHAR(500) NOT NULL,
    file_path VARCHAR(1000),
    file_size BIGINT,
    file_type VARCHAR(50),
    upload_date TIMESTAMP DEFAULT NOW(),
    uploaded_by VARCHAR(100),
    checksum VARCHAR(64),
    CONSTRAINT fk_file_course FOREIGN KEY (course_id) REFERENCES courses(course_id) ON DELETE CASCADE,
    CONSTRAINT fk_file_user FOREIGN KEY (uploaded_by) REFERENCES users(user_id) ON DELETE SET NULL
);
CREATE INDEX idx_source_files_file_id ON source_files(file_id);
CREATE INDEX idx_source_files_course_id ON source_files(course_id);
CREATE INDEX idx_source_files_uploaded_by ON source_files(uploaded_by);

CREATE TABLE user_progress (
    id SERIAL PRIMARY KEY,
    user_id VARCHAR(100) NOT NULL,
    course_id INTEGER NOT NULL,
    module_id INTEGER,
    topic_id INTEGER,
    status VARCHAR(50) DEFAULT 'not_started',
    progress_percentage INTEGER DEFAULT 0,
    last_accessed TIMESTAMP DEFAULT NOW(),
    completion_date TIMESTAMP,
    CONSTRAINT fk_progress_user FOREIGN KEY (user_id) REFERENCES users(user_id) ON DELETE CASCADE,
    CONSTRAINT fk_progress_course FOREIGN KEY (course_id) REFERENCES courses(course_id) ON DELETE CASCADE,
    CONSTRAINT fk_progress_module FOREIGN KEY (module_id) REFERENCES modules(id) ON DELETE CASCADE,
    CONSTRAINT fk_progress_topic FOREIGN KEY (topic_id) REFERENCES topics(id) ON DELETE CASCADE,
    CONSTRAINT unique_user_progress UNIQUE NULLS NOT DISTINCT (user_id, course_id, module_id, topic_id)
);
CREATE INDEX idx_user_progress_user_id ON user_progress(user_id);
CREATE INDEX idx_user_progress_course_id ON user_progress(course_id);
CREATE INDEX idx_user_progress_status ON user_progress(status);

CREATE TABLE chat_history (
    id SERIAL PRIMARY KEY,
    user_id VARCHAR(100) NOT NULL,
    course_id INTEGER,
    session_id VARCHAR(100) NOT NULL,
    message_type VARCHAR(20) NOT NULL,
    message TEXT NOT NULL,
    timestamp TIMESTAMP DEFAULT NOW(),
    metadata JSONB,
    CONSTRAINT fk_chat_user FOREIGN KEY (user_id) REFERENCES users(user_id) ON DELETE CASCADE
);
CREATE INDEX idx_chat_history_user_id ON chat_history(user_id);
CREATE INDEX idx_chat_history_session_id ON chat_history(session_id);
CREATE INDEX idx_chat_history_timestamp ON chat_history(timestamp DESC);
"""

# The seed enables uuid-ossp; the embedded PostgreSQL build does not ship it, and no column needs it
# (ids are generated by the application), so it is enabled only where the server has it.
UUID_OSSP = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'uuid-ossp') THEN
        CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
    END IF;
END
$$;
"""


def upgrade() -> None:
    op.execute(UUID_OSSP)
    # One statement per execute: asyncpg prepares each statement and refuses a multi-statement string.
    for statement in DDL.split(";\n"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
