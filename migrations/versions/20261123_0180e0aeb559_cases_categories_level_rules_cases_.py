"""cases: categories, level rules, cases, parties, timeline, proposals, supervision, help, follow-up, attachments

Revision ID: 0180e0aeb559
Revises: 4ed766ff4f52
Create Date: 2026-11-23 17:21:22.005339

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0180e0aeb559'
down_revision = '4ed766ff4f52'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_case_counters'))
    )
    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.Column('grid_days', sa.Integer(), nullable=False),
    sa.Column('community_days', sa.Integer(), nullable=False),
    sa.Column('street_days', sa.Integer(), nullable=False),
    sa.Column('overall_days', sa.Integer(), nullable=False),
    sa.Column('working_days', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('report_as', sa.String(length=32), nullable=True),
    sa.CheckConstraint('grid_days > 0 AND community_days > 0 AND street_days > 0 AND overall_days > 0', name=op.f('ck_categories_days_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_categories_code')),
    sa.UniqueConstraint('name', name=op.f('uq_categories_name'))
    )
    op.create_table('level_rules',
    sa.Column('level', sa.Enum('grid', 'community', 'street', name='level', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('amount_limit_fen', sa.BigInteger(), nullable=True),
    sa.Column('warn_days_before', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('level', name=op.f('pk_level_rules'))
    )
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('source', sa.Enum('party_application', 'committee_initiative', 'grid_patrol', 'walk_in', 'hotline', 'police_referral', 'court_referral', name='source', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('violence_threat', sa.Boolean(), nullable=False),
    sa.Column('criminal_risk', sa.Boolean(), nullable=False),
    sa.Column('vulnerable_party', sa.Boolean(), nullable=False),
    sa.Column('group_dispute', sa.Boolean(), nullable=False),
    sa.Column('repeat_petition', sa.Boolean(), nullable=False),
    sa.Column('risk_level', sa.Enum('low', 'medium', 'high', name='risk_level', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('state', sa.Enum('reported', 'accepted', 'declined', 'in_mediation', 'settled', 'partly_settled', 'failed', 'withdrawn', 'referred_out', 'follow_up', 'closed', name='state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('level', sa.Enum('grid', 'community', 'street', name='level', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('level_entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('level_deadline', sa.Date(), nullable=True),
    sa.Column('overall_deadline', sa.Date(), nullable=True),
    sa.Column('handler_id', sa.Integer(), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('referred_to', sa.String(length=120), nullable=True),
    sa.Column('oral_agreement', sa.Text(), nullable=True),
    sa.Column('routes_told', sa.JSON(), nullable=True),
    sa.Column('settled_level', sa.Enum('grid', 'community', 'street', name='settled_level', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint("(state = 'closed') = (closed_at IS NOT NULL)", name=op.f('ck_cases_closed_at_iff_closed')),
    sa.CheckConstraint("(state IN ('reported', 'accepted', 'in_mediation')) = (outcome_at IS NULL)", name=op.f('ck_cases_outcome_at_iff_outcome')),
    sa.CheckConstraint('amount_fen IS NULL OR amount_fen >= 0', name=op.f('ck_cases_amount_not_negative')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_cases_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['grid_id'], ['area_nodes.id'], name=op.f('fk_cases_grid_id_area_nodes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['handler_id'], ['users.id'], name=op.f('fk_cases_handler_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_cases_reported_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('number', name=op.f('uq_cases_number')),
    sa.UniqueConstraint('year', 'seq', name=op.f('uq_cases_year_seq'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_handler_id'), ['handler_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_level_deadline'), ['level_deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_reported_at'), ['reported_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_risk_level'), ['risk_level'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_state'), ['state'], unique=False)
        batch_op.create_index('ix_cases_state_level', ['state', 'level'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_updated_at'), ['updated_at'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=80), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_attachments_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_case_id'), ['case_id'], unique=False)

    op.create_table('case_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('co_handler', 'legal_aid', name='role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_assignments_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_assignments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_assignments')),
    sa.UniqueConstraint('case_id', 'user_id', name=op.f('uq_case_assignments_case_id_user_id'))
    )
    with op.batch_alter_table('case_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_assignments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_assignments_user_id'), ['user_id'], unique=False)

    op.create_table('case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('state', 'level', 'note', 'opinion', 'proposal', 'supervision', 'help', 'assignment', 'party', 'attachment', 'follow_up', 'session', name='kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('from_state', sa.Enum('reported', 'accepted', 'declined', 'in_mediation', 'settled', 'partly_settled', 'failed', 'withdrawn', 'referred_out', 'follow_up', 'closed', name='from_state', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('to_state', sa.Enum('reported', 'accepted', 'declined', 'in_mediation', 'settled', 'partly_settled', 'failed', 'withdrawn', 'referred_out', 'follow_up', 'closed', name='to_state', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('from_level', sa.Enum('grid', 'community', 'street', name='from_level', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('to_level', sa.Enum('grid', 'community', 'street', name='to_level', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_events_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_events_case_id'), ['case_id'], unique=False)

    op.create_table('escalation_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.Enum('deadline_passed', 'high_risk', 'amount_over_limit', 'cross_community', 'mediator_request', name='rule', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('from_level', sa.Enum('grid', 'community', 'street', name='from_level', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('to_level', sa.Enum('grid', 'community', 'street', name='to_level', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('open', 'confirmed', 'dismissed', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_escalation_proposals_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_escalation_proposals_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_escalation_proposals_decided_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_proposals'))
    )
    with op.batch_alter_table('escalation_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_proposals_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_proposals_status'), ['status'], unique=False)
        batch_op.create_index('uq_escalation_proposals_open', ['case_id', 'rule'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.create_table('follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('visitor_id', sa.Integer(), nullable=True),
    sa.Column('performance', sa.Text(), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=False),
    sa.Column('new_lawsuit', sa.Boolean(), nullable=False),
    sa.Column('remaining_risk', sa.Text(), nullable=True),
    sa.Column('measures', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('satisfaction BETWEEN 1 AND 5', name=op.f('ck_follow_ups_satisfaction_range')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_follow_ups_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visitor_id'], ['users.id'], name=op.f('fk_follow_ups_visitor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups'))
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_case_id'), ['case_id'], unique=False)

    op.create_table('help_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.Enum('police', 'housing', 'labour', 'court', 'justice', 'urban_management', 'market_regulation', 'civil_affairs', 'womens_federation', 'other', name='department', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('department_detail', sa.String(length=120), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_help_requests_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_help_requests_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_help_requests'))
    )
    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_help_requests_case_id'), ['case_id'], unique=False)

    op.create_table('parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('applicant', 'respondent', 'third_party', name='role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('kind', sa.Enum('person', 'organisation', name='kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('gender', sa.Enum('male', 'female', name='gender', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('ethnicity', sa.String(length=20), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('occupation', sa.String(length=60), nullable=True),
    sa.Column('id_type', sa.String(length=30), nullable=True),
    sa.Column('id_number_encrypted', sa.Text(), nullable=True),
    sa.Column('id_number_index', sa.String(length=64), nullable=True),
    sa.Column('id_number_masked', sa.String(length=40), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('legal_representative', sa.String(length=60), nullable=True),
    sa.Column('legal_representative_title', sa.String(length=40), nullable=True),
    sa.Column('agent_name', sa.String(length=60), nullable=True),
    sa.Column('agent_phone', sa.String(length=20), nullable=True),
    sa.Column('agent_power_of_attorney', sa.Boolean(), nullable=False),
    sa.Column('refuses_mediation', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_parties_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['community_id'], ['area_nodes.id'], name=op.f('fk_parties_community_id_area_nodes'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parties'))
    )
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parties_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_parties_id_number_index'), ['id_number_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_parties_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_parties_phone'), ['phone'], unique=False)

    op.create_table('supervision_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('grid', 'community', 'street', name='level', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('to_user_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('respond_by', sa.Date(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('responded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_supervision_notices_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_supervision_notices_issued_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['responded_by_id'], ['users.id'], name=op.f('fk_supervision_notices_responded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['to_user_id'], ['users.id'], name=op.f('fk_supervision_notices_to_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_notices'))
    )
    with op.batch_alter_table('supervision_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_notices_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_notices_to_user_id'), ['to_user_id'], unique=False)
        batch_op.create_index('uq_supervision_notices_auto', ['case_id', 'level', 'deadline'], unique=True, sqlite_where=sa.text('automatic'), postgresql_where=sa.text('automatic'))

    _seed_rules()


# The categories used in justice-bureau statistics (DOMAIN.md), then the everyday ones
# the seeds watch for, counted under a statistics category.  Time limits: grid 3 days,
# community 7, street 15, one month overall (MOJ-2002 art. 33); all editable by an admin.
CATEGORIES = [
    ("marriage_family", "婚姻家庭", "Marriage and family", None),
    ("neighbour", "邻里", "Neighbours", None),
    ("housing_homestead", "房屋宅基地", "Housing and homestead", None),
    ("contract", "合同", "Contract", None),
    ("business", "生产经营", "Production and business", None),
    ("damages", "损害赔偿", "Compensation for damage", None),
    ("forest_land", "山林土地", "Forest and land", None),
    ("land_demolition", "征地拆迁", "Land requisition and demolition", None),
    ("pollution", "环境污染", "Environmental pollution", None),
    ("labour", "劳动争议", "Labour dispute", None),
    ("consumer", "消费", "Consumer", None),
    ("medical", "医疗", "Medical", None),
    ("traffic", "道路交通事故", "Road traffic accident", None),
    ("property_management", "物业", "Property management", None),
    ("village_affairs", "村务管理", "Village affairs", None),
    ("tourism", "旅游", "Tourism", None),
    ("ip", "知识产权", "Intellectual property", None),
    ("internet", "互联网", "Internet", None),
    ("noise", "噪声扰民", "Noise", "neighbour"),
    ("pets", "宠物饲养", "Pets", "neighbour"),
    ("thrown_objects", "高空抛物", "Objects thrown from height", "damages"),
    ("water_leak", "房屋漏水", "Water leaks between flats", "neighbour"),
    ("wage_arrears", "拖欠工资", "Wage arrears", "labour"),
    ("other", "其他", "Other", None),
]


def _seed_rules():
    categories = sa.table(
        "categories", sa.column("code", sa.String), sa.column("name", sa.String),
        sa.column("name_en", sa.String), sa.column("grid_days", sa.Integer),
        sa.column("community_days", sa.Integer), sa.column("street_days", sa.Integer),
        sa.column("overall_days", sa.Integer), sa.column("working_days", sa.Boolean),
        sa.column("active", sa.Boolean), sa.column("sort_order", sa.Integer),
        sa.column("report_as", sa.String))
    op.bulk_insert(categories, [
        {"code": code, "name": name, "name_en": name_en, "grid_days": 3,
         "community_days": 7, "street_days": 15, "overall_days": 30, "working_days": False,
         "active": True, "sort_order": (index + 1) * 10, "report_as": report_as}
        for index, (code, name, name_en, report_as) in enumerate(CATEGORIES)])
    level_rules = sa.table("level_rules", sa.column("level", sa.String),
                           sa.column("amount_limit_fen", sa.BigInteger),
                           sa.column("warn_days_before", sa.Integer))
    op.bulk_insert(level_rules, [
        {"level": "grid", "amount_limit_fen": 1_000_000, "warn_days_before": 1},
        {"level": "community", "amount_limit_fen": 10_000_000, "warn_days_before": 2},
        {"level": "street", "amount_limit_fen": None, "warn_days_before": 3},
    ])


def downgrade():
    with op.batch_alter_table('supervision_notices', schema=None) as batch_op:
        batch_op.drop_index('uq_supervision_notices_auto', sqlite_where=sa.text('automatic'), postgresql_where=sa.text('automatic'))
        batch_op.drop_index(batch_op.f('ix_supervision_notices_to_user_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_notices_case_id'))

    op.drop_table('supervision_notices')
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parties_phone'))
        batch_op.drop_index(batch_op.f('ix_parties_name'))
        batch_op.drop_index(batch_op.f('ix_parties_id_number_index'))
        batch_op.drop_index(batch_op.f('ix_parties_case_id'))

    op.drop_table('parties')
    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_help_requests_case_id'))

    op.drop_table('help_requests')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_ups_case_id'))

    op.drop_table('follow_ups')
    with op.batch_alter_table('escalation_proposals', schema=None) as batch_op:
        batch_op.drop_index('uq_escalation_proposals_open', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_escalation_proposals_status'))
        batch_op.drop_index(batch_op.f('ix_escalation_proposals_case_id'))

    op.drop_table('escalation_proposals')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_events_case_id'))

    op.drop_table('case_events')
    with op.batch_alter_table('case_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_assignments_user_id'))
        batch_op.drop_index(batch_op.f('ix_case_assignments_case_id'))

    op.drop_table('case_assignments')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_case_id'))

    op.drop_table('attachments')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_updated_at'))
        batch_op.drop_index('ix_cases_state_level')
        batch_op.drop_index(batch_op.f('ix_cases_state'))
        batch_op.drop_index(batch_op.f('ix_cases_risk_level'))
        batch_op.drop_index(batch_op.f('ix_cases_reported_at'))
        batch_op.drop_index(batch_op.f('ix_cases_level_deadline'))
        batch_op.drop_index(batch_op.f('ix_cases_handler_id'))
        batch_op.drop_index(batch_op.f('ix_cases_grid_id'))
        batch_op.drop_index(batch_op.f('ix_cases_category_id'))

    op.drop_table('cases')
    op.drop_table('level_rules')
    op.drop_table('categories')
    op.drop_table('case_counters')
