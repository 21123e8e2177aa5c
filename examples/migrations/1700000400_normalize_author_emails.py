# Migration: Normalize author emails
# Description: Lower-cases and trims every email, streaming the table in batches

dependencies = ["1700000000_create_authors"]


async def up(context):
    async for batch in context.iterate("SELECT id, email FROM authors ORDER BY id", batch_size=500):
        changed = [(email.strip().lower(), author_id) for author_id, email in batch]
        await context.execute_many("UPDATE authors SET email = $1 WHERE id = $2", changed)


async def down(context):
    """Nothing to undo: the old spellings are not kept."""
