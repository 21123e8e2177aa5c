# Migration: Create tags
# Description: Tags and the post/tag link table (a class-based migration)

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table
from sqlalchemy.schema import CreateTable, DropTable

from uno_migrations.migration import Migration, create_migration

metadata = MetaData()
# Only what the foreign key needs to know about the existing posts table.
Table("posts", metadata, Column("id", Integer, primary_key=True))
tags = Table(
    "tags",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(50), nullable=False, unique=True),
)
post_tags = Table(
    "post_tags",
    metadata,
    Column("post_id", Integer, ForeignKey("posts.id"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("tags.id"), primary_key=True),
)


class CreateTags(Migration):
    def __init__(self):
        super().__init__(
            create_migration(
                name="Create tags",
                description="Tags and the post/tag link table",
                dependencies=["1700000100_create_posts"],
                tags=["content"],
            )
        )

    async def apply(self, context):
        await context.execute(CreateTable(tags))
        await context.execute(CreateTable(post_tags))
        await context.execute_many(
            "INSERT INTO tags (id, name) VALUES (:id, :name)",
            [{"id": 1, "name": "history"}, {"id": 2, "name": "computing"}],
        )

    async def revert(self, context):
        await context.execute(DropTable(post_tags))
        await context.execute(DropTable(tags))
