# Migration: Add post slugs
# Description: Adds posts.slug and fills it from each title (a function-based data migration)

import re

dependencies = ["1700000100_create_posts"]


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


async def up(context):
    await context.execute_sql("ALTER TABLE posts ADD COLUMN slug VARCHAR(200)")
    result = await context.execute_sql("SELECT id, title FROM posts ORDER BY id")
    posts = await result.fetchall()
    for post_id, title in posts:
        await context.execute_sql("UPDATE posts SET slug = $1 WHERE id = $2", [slugify(title), post_id])
    await context.execute_sql("CREATE UNIQUE INDEX idx_posts_slug ON posts (slug)")
    context.logger.info("slugs written for %d posts", len(posts))


async def down(context):
    if context.dialect == "mysql":
        await context.execute_sql("DROP INDEX idx_posts_slug ON posts")
    else:
        await context.execute_sql("DROP INDEX idx_posts_slug")
    await context.execute_sql("ALTER TABLE posts DROP COLUMN slug")
