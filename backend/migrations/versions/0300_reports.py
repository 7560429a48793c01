"""reports: summary tables, refresh marks, per-queue report settings, archived reports

Revision ID: 0300_reports
Revises: 0001_foundation
Create Date: 2026-11-25 15:35:00
"""
from typing import Any

from alembic import op
import sqlalchemy as sa


revision = '0300_reports'
down_revision = '0001_foundation'
branch_labels = ('reports',)
depends_on = None

# A frozen copy of backend.models.reporting's measure columns (migrations never import models).
WAIT_EDGES = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)
COUNTS = (
    'inbound', 'ivr_abandoned', 'self_service', 'offered', 'answered', 'answered_within_t',
    'abandoned', 'short_abandoned', 'abandoned_within_t', 'callback_requested', 'callback_made',
    'callback_connected', 'transferred', 'handled', 'surveyed', 'satisfied',
    'satisfaction_points', 'recorded', 'missing_recording',
) + tuple(f'waits_le_{edge}' for edge in WAIT_EDGES)
SECONDS = (
    'wait_answered_seconds', 'wait_offered_seconds', 'talk_seconds', 'hold_seconds',
    'wrapup_seconds', 'recording_seconds',
)


def _measure_columns() -> list[sa.Column[Any]]:
    columns: list[sa.Column[Any]] = [sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS]
    columns += [sa.Column(name, sa.Float(), nullable=False) for name in SECONDS]
    columns.append(sa.Column('recording_bytes', sa.BigInteger(), nullable=False))
    return columns


def upgrade() -> None:
    op.create_table('report_agent_call_stats',
    sa.Column('bucket_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.String(length=16), nullable=False),
    sa.Column('skill', sa.String(length=32), nullable=False),
    *_measure_columns(),
    sa.PrimaryKeyConstraint('bucket_start', 'agent_id', 'line', 'skill', name=op.f('pk_report_agent_call_stats'))
    )
    op.create_index('ix_report_agent_call_stats_agent', 'report_agent_call_stats', ['agent_id', 'bucket_start'], unique=False)
    op.create_table('report_agent_state_stats',
    sa.Column('bucket_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('bucket_start', 'agent_id', 'state', 'reason', name=op.f('pk_report_agent_state_stats'))
    )
    op.create_index('ix_report_agent_state_stats_agent', 'report_agent_state_stats', ['agent_id', 'bucket_start'], unique=False)
    op.create_table('report_archives',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fmt', sa.String(length=8), nullable=False),
    sa.Column('filename', sa.String(length=128), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_archives'))
    )
    op.create_index('ix_report_archives_kind_period', 'report_archives', ['kind', 'period_start'], unique=False)
    op.create_table('report_call_stats',
    sa.Column('bucket_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('line', sa.String(length=16), nullable=False),
    sa.Column('skill', sa.String(length=32), nullable=False),
    *_measure_columns(),
    sa.PrimaryKeyConstraint('bucket_start', 'line', 'skill', name=op.f('pk_report_call_stats'))
    )
    op.create_table('report_intent_stats',
    sa.Column('bucket_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('line', sa.String(length=16), nullable=False),
    sa.Column('intent', sa.String(length=32), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket_start', 'line', 'intent', name=op.f('pk_report_intent_stats'))
    )
    op.create_table('report_queue_settings',
    sa.Column('line', sa.String(length=16), nullable=False),
    sa.Column('skill', sa.String(length=32), nullable=False),
    sa.Column('sl_threshold_seconds', sa.Integer(), nullable=True),
    sa.Column('short_abandon_seconds', sa.Integer(), nullable=False),
    sa.Column('sl_formula', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('line', 'skill', name=op.f('pk_report_queue_settings'))
    )
    op.create_index(
        'ix_call_records_queue_give_ups', 'call_records', ['started_at'], unique=False,
        postgresql_where=sa.text("disposition IN ('ABANDONED_QUEUE', 'SHORT_ABANDON', 'CALLBACK')"),
    )
    op.create_index(
        'ix_call_records_callback_parent', 'call_records', ['parent_call_id'], unique=False,
        postgresql_where=sa.text('parent_call_id IS NOT NULL'),
    )
    op.create_table('report_refresh_marks',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('refreshed_through', sa.DateTime(timezone=True), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_report_refresh_marks'))
    )


def downgrade() -> None:
    op.drop_table('report_refresh_marks')
    op.drop_index('ix_call_records_queue_give_ups', table_name='call_records')
    op.drop_index('ix_call_records_callback_parent', table_name='call_records')
    op.drop_table('report_queue_settings')
    op.drop_table('report_intent_stats')
    op.drop_table('report_call_stats')
    op.drop_index('ix_report_archives_kind_period', table_name='report_archives')
    op.drop_table('report_archives')
    op.drop_index('ix_report_agent_state_stats_agent', table_name='report_agent_state_stats')
    op.drop_table('report_agent_state_stats')
    op.drop_index('ix_report_agent_call_stats_agent', table_name='report_agent_call_stats')
    op.drop_table('report_agent_call_stats')
