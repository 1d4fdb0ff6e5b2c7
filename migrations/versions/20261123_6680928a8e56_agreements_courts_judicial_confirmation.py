"""agreements, courts, judicial confirmation

Revision ID: 6680928a8e56
Revises: 3f9e25722e16
Create Date: 2026-11-23 19:28:00.445047

"""
from alembic import op
import sqlalchemy as sa

EVENT_KINDS = ('state', 'level', 'note', 'opinion', 'proposal', 'supervision', 'help',
               'assignment', 'party', 'attachment', 'follow_up', 'session')


def _event_kinds(kinds):
    """The timeline's kinds are a CHECK constraint: replace it (batch mode on SQLite)."""
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_events_kind'), type_='check')
        batch_op.create_check_constraint(
            'kind', sa.column('kind').in_(kinds))


# revision identifiers, used by Alembic.
revision = '6680928a8e56'
down_revision = '3f9e25722e16'
branch_labels = None
depends_on = None


def upgrade():
    _event_kinds(EVENT_KINDS + ('agreement',))
    op.create_table('courts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=30), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area_nodes.id'], name=op.f('fk_courts_area_id_area_nodes'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courts')),
    sa.UniqueConstraint('name', name=op.f('uq_courts_name'))
    )
    with op.batch_alter_table('courts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courts_area_id'), ['area_id'], unique=False)

    op.create_table('agreement_counters',
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['committee_id'], ['committees.id'], name=op.f('fk_agreement_counters_committee_id_committees'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('committee_id', 'year', name=op.f('pk_agreement_counters'))
    )
    op.create_table('agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'issued', 'superseded', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('disputed_matters', sa.Text(), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=True),
    sa.Column('recorder_name', sa.String(length=60), nullable=True),
    sa.Column('inviting_court_id', sa.Integer(), nullable=True),
    sa.Column('concerns_status', sa.Boolean(), nullable=False),
    sa.Column('determines_ownership', sa.Boolean(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=80), nullable=True),
    sa.Column('verification_code', sa.String(length=20), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('mediator_signed_on', sa.Date(), nullable=True),
    sa.Column('recorder_signed_on', sa.Date(), nullable=True),
    sa.Column('sealed_on', sa.Date(), nullable=True),
    sa.Column('signed_copy_id', sa.Integer(), nullable=True),
    sa.Column('signed_copy_on', sa.Date(), nullable=True),
    sa.Column('effective_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint("(status = 'draft') = (number IS NULL)", name=op.f('ck_agreements_number_iff_issued')),
    sa.CheckConstraint("(status = 'draft') = (sha256 IS NULL)", name=op.f('ck_agreements_pdf_iff_issued')),
    sa.CheckConstraint("(status = 'draft') = (verification_code IS NULL)", name=op.f('ck_agreements_code_iff_issued')),
    sa.CheckConstraint("effective_on IS NULL OR status <> 'draft'", name=op.f('ck_agreements_only_issued_take_effect')),
    sa.CheckConstraint('copies >= 2', name=op.f('ck_agreements_copies_at_least_two')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_agreements_case_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['committee_id'], ['committees.id'], name=op.f('fk_agreements_committee_id_committees'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_agreements_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['inviting_court_id'], ['courts.id'], name=op.f('fk_agreements_inviting_court_id_courts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_agreements_issued_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mediator_id'], ['users.id'], name=op.f('fk_agreements_mediator_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['signed_copy_id'], ['attachments.id'], name=op.f('fk_agreements_signed_copy_id_attachments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['supersedes_id'], ['agreements.id'], name=op.f('fk_agreements_supersedes_id_agreements'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreements')),
    sa.UniqueConstraint('committee_id', 'year', 'seq', name=op.f('uq_agreements_committee_id_year_seq')),
    sa.UniqueConstraint('number', name=op.f('uq_agreements_number')),
    sa.UniqueConstraint('supersedes_id', name=op.f('uq_agreements_supersedes_id')),
    sa.UniqueConstraint('verification_code', name=op.f('uq_agreements_verification_code'))
    )
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreements_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_committee_id'), ['committee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_effective_on'), ['effective_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_status'), ['status'], unique=False)

    op.create_table('agreement_parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('responsibility', sa.Text(), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('sign_method', sa.Enum('signature', 'seal', 'fingerprint', name='sign_method', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_parties_agreement_id_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_agreement_parties_party_id_parties'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_parties')),
    sa.UniqueConstraint('agreement_id', 'party_id', name=op.f('uq_agreement_parties_agreement_id_party_id'))
    )
    with op.batch_alter_table('agreement_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_parties_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_parties_party_id'), ['party_id'], unique=False)

    op.create_table('agreement_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('obligor_id', sa.Integer(), nullable=True),
    sa.Column('obligee_id', sa.Integer(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('method', sa.String(length=120), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('performed_on', sa.Date(), nullable=True),
    sa.Column('on_the_spot', sa.Boolean(), nullable=False),
    sa.Column('overdue_since', sa.Date(), nullable=True),
    sa.CheckConstraint('amount_fen IS NULL OR amount_fen > 0', name=op.f('ck_agreement_terms_amount_positive')),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_terms_agreement_id_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['obligee_id'], ['parties.id'], name=op.f('fk_agreement_terms_obligee_id_parties'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['obligor_id'], ['parties.id'], name=op.f('fk_agreement_terms_obligor_id_parties'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_terms'))
    )
    with op.batch_alter_table('agreement_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_terms_agreement_id'), ['agreement_id'], unique=False)

    op.create_table('judicial_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('court_id', sa.Integer(), nullable=True),
    sa.Column('court_name', sa.String(length=120), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('case_reference', sa.String(length=80), nullable=True),
    sa.Column('result', sa.Enum('pending', 'confirmed', 'dismissed', 'not_accepted', name='result', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('ruling_number', sa.String(length=80), nullable=True),
    sa.Column('ruled_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(result = 'pending') = (ruled_on IS NULL)", name=op.f('ck_judicial_confirmations_ruled_iff_decided')),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_judicial_confirmations_agreement_id_agreements'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['court_id'], ['courts.id'], name=op.f('fk_judicial_confirmations_court_id_courts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_judicial_confirmations_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judicial_confirmations'))
    )
    with op.batch_alter_table('judicial_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judicial_confirmations_agreement_id'), ['agreement_id'], unique=False)

    op.create_table('agreement_instalments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_agreement_instalments_amount_positive')),
    sa.ForeignKeyConstraint(['term_id'], ['agreement_terms.id'], name=op.f('fk_agreement_instalments_term_id_agreement_terms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_instalments'))
    )
    with op.batch_alter_table('agreement_instalments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_instalments_term_id'), ['term_id'], unique=False)

    with op.batch_alter_table('committees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreement_number_pattern', sa.String(length=80), nullable=True))



def downgrade():
    op.execute("DELETE FROM case_events WHERE kind = 'agreement'")
    _event_kinds(EVENT_KINDS)
    with op.batch_alter_table('committees', schema=None) as batch_op:
        batch_op.drop_column('agreement_number_pattern')

    with op.batch_alter_table('agreement_instalments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_instalments_term_id'))

    op.drop_table('agreement_instalments')
    with op.batch_alter_table('judicial_confirmations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judicial_confirmations_agreement_id'))

    op.drop_table('judicial_confirmations')
    with op.batch_alter_table('agreement_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_terms_agreement_id'))

    op.drop_table('agreement_terms')
    with op.batch_alter_table('agreement_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_parties_party_id'))
        batch_op.drop_index(batch_op.f('ix_agreement_parties_agreement_id'))

    op.drop_table('agreement_parties')
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreements_status'))
        batch_op.drop_index(batch_op.f('ix_agreements_sha256'))
        batch_op.drop_index(batch_op.f('ix_agreements_effective_on'))
        batch_op.drop_index(batch_op.f('ix_agreements_committee_id'))
        batch_op.drop_index(batch_op.f('ix_agreements_case_id'))

    op.drop_table('agreements')
    op.drop_table('agreement_counters')
    with op.batch_alter_table('courts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courts_area_id'))

    op.drop_table('courts')
