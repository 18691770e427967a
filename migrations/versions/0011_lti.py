"""LTI 1.3: the platforms (LMSs) an admin registered, the tool's own signing key, LMS contexts linked to courses,
and each LMS user's latest launch into a course (where their quiz scores go back to).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE lti_platforms (
            id SERIAL PRIMARY KEY,
            issuer VARCHAR(255) NOT NULL,
            client_id VARCHAR(255) NOT NULL,
            deployment_ids TEXT[] NOT NULL DEFAULT '{}',
            jwks_url TEXT NOT NULL,
            auth_login_url TEXT NOT NULL,
            token_url TEXT NOT NULL,
            name VARCHAR(255),
            created_at TIMESTAMP NOT NULL DEFAULT NOW(),
            CONSTRAINT uq_lti_platform UNIQUE (issuer, client_id)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE lti_tool_keys (
            id SERIAL PRIMARY KEY,
            kid VARCHAR(64) NOT NULL,
            private_key_pem TEXT NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT NOW(),
            CONSTRAINT uq_lti_tool_key_kid UNIQUE (kid)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE lti_contexts (
            id SERIAL PRIMARY KEY,
            platform_id INTEGER NOT NULL,
            context_id VARCHAR(255) NOT NULL,
            title VARCHAR(500),
            course_id INTEGER,
            memberships_url TEXT,
            lineitems_url TEXT,
            updated_at TIMESTAMP NOT NULL DEFAULT NOW(),
            CONSTRAINT fk_lti_context_platform FOREIGN KEY (platform_id) REFERENCES lti_platforms(id) ON DELETE CASCADE,
            CONSTRAINT fk_lti_context_course FOREIGN KEY (course_id) REFERENCES courses(course_id) ON DELETE SET NULL,
            CONSTRAINT uq_lti_context UNIQUE (platform_id, context_id)
        )
        """
    )
    op.execute("CREATE INDEX idx_lti_contexts_course ON lti_contexts (course_id)")
    op.execute(
        """
        CREATE TABLE lti_launches (
            id SERIAL PRIMARY KEY,
            user_id VARCHAR(100) NOT NULL,
            course_id INTEGER NOT NULL,
            platform_id INTEGER NOT NULL,
            context_id VARCHAR(255),
            resource_link_id VARCHAR(255),
            quiz_id VARCHAR(100),
            role VARCHAR(50) NOT NULL,
            lineitem_url TEXT,
            lineitems_url TEXT,
            ags_scopes TEXT[] NOT NULL DEFAULT '{}',
            updated_at TIMESTAMP NOT NULL DEFAULT NOW(),
            CONSTRAINT fk_lti_launch_user FOREIGN KEY (user_id) REFERENCES users(user_id) ON DELETE CASCADE,
            CONSTRAINT fk_lti_launch_course FOREIGN KEY (course_id) REFERENCES courses(course_id) ON DELETE CASCADE,
            CONSTRAINT fk_lti_launch_platform FOREIGN KEY (platform_id) REFERENCES lti_platforms(id) ON DELETE CASCADE,
            CONSTRAINT uq_lti_launch_user_course UNIQUE (user_id, course_id)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE lti_launches")
    op.execute("DROP TABLE lti_contexts")
    op.execute("DROP TABLE lti_tool_keys")
    op.execute("DROP TABLE lti_platforms")
