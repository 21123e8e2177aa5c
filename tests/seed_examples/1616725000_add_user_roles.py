from uno_migrations.migration import Migration, create_migration


class AddUserRolesMigration(Migration):
    """Migration to add user roles and permissions."""

    def __init__(self):
        base = create_migration(
            name="Add User Roles",
            description="Creates tables for role-based access control",
            dependencies=["1616721123_create_users_table"]
        )
        super().__init__(base)

    async def apply(self, context):
        """Apply the migration."""
        # Create roles table
        await context.execute_sql('''
            CREATE TABLE roles (
                id SERIAL PRIMARY KEY,
                name VARCHAR(100) NOT NULL UNIQUE,
                description TEXT,
                created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
            );
        ''')

        # Create user_roles table
        await context.execute_sql('''
            CREATE TABLE user_roles (
                id SERIAL PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
                created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
                UNIQUE(user_id, role_id)
            );

            CREATE INDEX idx_user_roles_user_id ON user_roles(user_id);
            CREATE INDEX idx_user_roles_role_id ON user_roles(role_id);
        ''')

        # Create permissions table
        await context.execute_sql('''
            CREATE TABLE permissions (
                id SERIAL PRIMARY KEY,
                name VARCHAR(100) NOT NULL UNIQUE,
                description TEXT,
                created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
            );
        ''')

        # Create role_permissions table
        await context.execute_sql('''
            CREATE TABLE role_permissions (
                id SERIAL PRIMARY KEY,
                role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
                permission_id INTEGER NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
                created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
                UNIQUE(role_id, permission_id)
            );

            CREATE INDEX idx_role_permissions_role_id ON role_permissions(role_id);
            CREATE INDEX idx_role_permissions_permission_id ON role_permissions(permission_id);
        ''')

        # Insert default roles
        await context.execute_sql(
            "INSERT INTO roles (name, description) VALUES ($1, $2)",
            ["admin", "Administrator with full access"]
        )

        await context.execute_sql(
            "INSERT INTO roles (name, description) VALUES ($1, $2)",
            ["user", "Regular user with limited access"]
        )

    async def revert(self, context):
        """Revert the migration."""
        await context.execute_sql('''
            DROP TABLE IF EXISTS role_permissions;
            DROP TABLE IF EXISTS permissions;
            DROP TABLE IF EXISTS user_roles;
            DROP TABLE IF EXISTS roles;
        ''')

    def get_checksum(self):
        """Calculate a checksum for the migration."""
        import hashlib
        content = "add_user_roles_migration"
        return hashlib.md5(content.encode('utf-8')).hexdigest()
