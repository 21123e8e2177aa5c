# Migration: Add user profiles with generated slugs
# Description: Creates user profile table and generates slugs for existing users

import re
from typing import Any


async def up(context: Any) -> None:
    """Apply the migration."""
    # Create user profiles table
    await context.execute_sql('''
        CREATE TABLE user_profiles (
            id SERIAL PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            slug VARCHAR(255) NOT NULL UNIQUE,
            bio TEXT,
            avatar_url VARCHAR(255),
            created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
            updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
        );

        CREATE INDEX idx_user_profiles_user_id ON user_profiles(user_id);
        CREATE INDEX idx_user_profiles_slug ON user_profiles(slug);
    ''')

    # Generate slugs for existing users and create profile entries
    users_result = await context.execute_sql('SELECT id, username FROM users')
    users = await users_result.fetchall()

    for user_id, username in users:
        # Generate slug from username
        slug = re.sub(r'[^a-z0-9]+', '-', username.lower()).strip('-')

        # Add profile entry
        await context.execute_sql('''
            INSERT INTO user_profiles (user_id, slug)
            VALUES ($1, $2)
        ''', [user_id, slug])


async def down(context: Any) -> None:
    """Revert the migration."""
    await context.execute_sql('''
        DROP INDEX IF EXISTS idx_user_profiles_slug;
        DROP INDEX IF EXISTS idx_user_profiles_user_id;
        DROP TABLE IF EXISTS user_profiles;
    ''')
