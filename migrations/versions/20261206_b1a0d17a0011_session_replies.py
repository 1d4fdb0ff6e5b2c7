"""session replies: a party's answer to its notice (session_participants.reply, reply_reason,
replied_at), and messages about a case to a party (outbox_messages.party_id: its access code)

SQLite changes a table's constraints only by copying it and dropping the old one, and with
foreign keys on (they are, on every connection) dropping session_participants would set
outbox_messages.participant_id to NULL on every message. The upgrade therefore adds the
reply columns with ALTER TABLE ADD COLUMN, their CHECKs written on the columns (every
existing row has NULL in both, so both hold); the downgrade copies the table and puts the
messages' participant links back afterwards. outbox_messages has no rows depending on it
and is copied as usual.

Revision ID: b1a0d17a0011
Revises: b1a0d17a0010
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = 'b1a0d17a0011'
down_revision = 'b1a0d17a0010'
branch_labels = None
depends_on = None

REPLIES = ('confirmed', 'declined', 'other_time')
IFF = '(reply IS NULL) = (replied_at IS NULL)'


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def _outbox():
    # Reflecting only this table: the tables it refers to lead on to users, whose expression
    # index SQLite's reflection cannot read (and warns about).
    return op.batch_alter_table('outbox_messages', schema=None,
                                reflect_kwargs={'resolve_fks': False})


def upgrade():
    if _sqlite():
        listed = ", ".join(f"'{reply}'" for reply in REPLIES)
        op.execute("ALTER TABLE session_participants ADD COLUMN reply VARCHAR(20) "
                   "CONSTRAINT ck_session_participants_reply "
                   f"CHECK (reply IN ({listed}))")
        op.execute("ALTER TABLE session_participants ADD COLUMN reply_reason TEXT")
        op.execute("ALTER TABLE session_participants ADD COLUMN replied_at DATETIME "
                   f"CONSTRAINT ck_session_participants_replied_at_iff_reply CHECK ({IFF})")
    else:
        op.add_column('session_participants', sa.Column('reply', sa.String(length=20)))
        op.add_column('session_participants', sa.Column('reply_reason', sa.Text()))
        op.add_column('session_participants',
                      sa.Column('replied_at', sa.DateTime(timezone=True)))
        op.create_check_constraint(op.f('ck_session_participants_reply'),
                                   'session_participants', sa.column('reply').in_(REPLIES))
        op.create_check_constraint(op.f('ck_session_participants_replied_at_iff_reply'),
                                   'session_participants', sa.text(IFF))

    with _outbox() as batch_op:
        batch_op.add_column(sa.Column('party_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_messages_party_id'), ['party_id'])
        batch_op.create_foreign_key(batch_op.f('fk_outbox_messages_party_id_parties'),
                                    'parties', ['party_id'], ['id'], ondelete='SET NULL')


def downgrade():
    # Messages to a party about its case stay (the older revision's export sends them too);
    # only their link to the party goes.
    with _outbox() as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_messages_party_id_parties'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_party_id'))
        batch_op.drop_column('party_id')

    if not _sqlite():
        op.drop_constraint(op.f('ck_session_participants_replied_at_iff_reply'),
                           'session_participants', type_='check')
        op.drop_constraint(op.f('ck_session_participants_reply'), 'session_participants',
                           type_='check')
        for column in ('replied_at', 'reply_reason', 'reply'):
            op.drop_column('session_participants', column)
        return
    op.execute("CREATE TEMP TABLE keep_outbox_participants AS "
               "SELECT id, participant_id FROM outbox_messages WHERE participant_id IS NOT NULL")
    with op.batch_alter_table('session_participants', schema=None,
                              reflect_kwargs={'resolve_fks': False}) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_session_participants_replied_at_iff_reply'),
                                 type_='check')
        batch_op.drop_constraint(batch_op.f('ck_session_participants_reply'), type_='check')
        for column in ('replied_at', 'reply_reason', 'reply'):
            batch_op.drop_column(column)
    op.execute("UPDATE outbox_messages SET participant_id = (SELECT k.participant_id FROM "
               "temp.keep_outbox_participants AS k WHERE k.id = outbox_messages.id) "
               "WHERE id IN (SELECT id FROM temp.keep_outbox_participants)")
    op.execute("DROP TABLE temp.keep_outbox_participants")
