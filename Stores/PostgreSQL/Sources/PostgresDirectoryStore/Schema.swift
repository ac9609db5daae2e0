import PostgresNIO
import UserManagementKit

/// The store's tables, and the migrations that create and upgrade them.
///
/// Migrations run in one transaction under a transaction-level advisory lock, so that app
/// servers starting at once neither race nor half-apply them; the version reached is kept in
/// `umk_schema`. A database whose version is newer than this build knows is refused.
enum Schema {
  /// The version this build creates and understands.
  static let currentVersion = 1

  /// The advisory lock key taken while migrating ("umk-sche" in ASCII).
  static let migrationLockKey: Int64 = 0x756D_6B2D_7363_6865

  /// The slots of the ring of recent commit ids, used to learn the outcome of a commit whose
  /// connection was lost after `COMMIT` was sent.
  static let commitSlots = 65_536

  /// The statements of each migration, in order: `migrations[0]` takes an empty database to
  /// version 1.
  static let migrations: [[String]] = [
    [
      "CREATE EXTENSION IF NOT EXISTS pg_trgm",
      """
      CREATE TABLE umk_directory (
        id int PRIMARY KEY CHECK (id = 1),
        audit_seq bigint NOT NULL DEFAULT 0 CHECK (audit_seq >= 0),
        commits bigint NOT NULL DEFAULT 0 CHECK (commits >= 0),
        user_count bigint NOT NULL DEFAULT 0 CHECK (user_count >= 0),
        active_admins bigint NOT NULL DEFAULT 0 CHECK (active_admins >= 0)
      )
      """,
      "INSERT INTO umk_directory (id) VALUES (1)",
      // Every slot exists from the start, so that a commit overwrites one in place (a heap-only
      // update: no index names `commit_id`; the rare look-up after a lost connection scans).
      """
      CREATE TABLE umk_commits (
        slot int PRIMARY KEY CHECK (slot >= 0),
        commit_id uuid
      )
      """,
      "INSERT INTO umk_commits (slot) SELECT generate_series(0, \(commitSlots - 1))",
      """
      CREATE TABLE umk_users (
        id uuid PRIMARY KEY,
        username_key text COLLATE "C" NOT NULL UNIQUE,
        username text NOT NULL,
        first_name text NOT NULL,
        last_name text NOT NULL,
        status text NOT NULL CHECK (status IN ('active', 'inactive')),
        role text NOT NULL CHECK (role IN ('admin', 'general')),
        policies uuid[] NOT NULL,
        api_access boolean NOT NULL,
        has_api_password boolean NOT NULL,
        has_password boolean NOT NULL,
        must_change_password boolean NOT NULL,
        email_verified boolean NOT NULL,
        has_second_factor boolean NOT NULL,
        version bigint NOT NULL CHECK (version >= 1),
        security_stamp text NOT NULL,
        created_at double precision NOT NULL,
        updated_at double precision NOT NULL,
        created_by_user uuid,
        created_by_system text,
        first_key text COLLATE "C" NOT NULL,
        last_key text COLLATE "C" NOT NULL,
        created_key text COLLATE "C" NOT NULL,
        search text NOT NULL,
        credentials json NOT NULL,
        CHECK ((created_by_user IS NULL) <> (created_by_system IS NULL))
      )
      """,
      "CREATE INDEX umk_users_first ON umk_users (first_key, username_key)",
      "CREATE INDEX umk_users_last ON umk_users (last_key, username_key)",
      "CREATE INDEX umk_users_created ON umk_users (created_key, username_key)",
      "CREATE INDEX umk_users_search ON umk_users USING gin (search gin_trgm_ops)",
      """
      CREATE INDEX umk_users_active_admins ON umk_users (id)
        WHERE status = 'active' AND role = 'admin'
      """,
      """
      CREATE TABLE umk_policies (
        id uuid PRIMARY KEY,
        name_key text COLLATE "C" NOT NULL UNIQUE,
        version bigint NOT NULL CHECK (version >= 1),
        document json NOT NULL
      )
      """,
      """
      CREATE TABLE umk_user_policies (
        user_id uuid NOT NULL REFERENCES umk_users (id),
        policy_id uuid NOT NULL REFERENCES umk_policies (id) ON DELETE RESTRICT,
        PRIMARY KEY (user_id, policy_id)
      )
      """,
      "CREATE INDEX umk_user_policies_policy ON umk_user_policies (policy_id)",
      """
      CREATE TABLE umk_throttles (
        user_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('password', 'apiPassword')),
        failures bigint NOT NULL CHECK (failures >= 0),
        last_failure double precision,
        PRIMARY KEY (user_id, kind)
      )
      """,
      """
      CREATE TABLE umk_audit (
        seq bigint PRIMARY KEY CHECK (seq >= 1),
        time double precision NOT NULL,
        actor text COLLATE "C" NOT NULL,
        target_user uuid,
        target_policy uuid,
        event json NOT NULL
      )
      """,
      """
      CREATE INDEX umk_audit_target_user ON umk_audit (target_user, seq)
        WHERE target_user IS NOT NULL
      """,
      """
      CREATE INDEX umk_audit_target_policy ON umk_audit (target_policy, seq)
        WHERE target_policy IS NOT NULL
      """,
      "CREATE INDEX umk_audit_actor ON umk_audit (actor, seq)",
      // The directory's counters follow every write of a user, whoever writes it.
      """
      CREATE FUNCTION umk_count_users() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        was_admin int := 0;
        is_admin int := 0;
        added int := 0;
      BEGIN
        IF TG_OP = 'INSERT' THEN
          added := 1;
        ELSIF OLD.status = 'active' AND OLD.role = 'admin' THEN
          was_admin := 1;
        END IF;
        IF NEW.status = 'active' AND NEW.role = 'admin' THEN
          is_admin := 1;
        END IF;
        IF added <> 0 OR is_admin <> was_admin THEN
          UPDATE umk_directory
            SET user_count = user_count + added, active_admins = active_admins + is_admin - was_admin
            WHERE id = 1;
        END IF;
        RETURN NULL;
      END $$
      """,
      // Only the writes that change the counts run the function.
      """
      CREATE TRIGGER umk_users_count_inserts AFTER INSERT ON umk_users
        FOR EACH ROW EXECUTE FUNCTION umk_count_users()
      """,
      """
      CREATE TRIGGER umk_users_count_updates AFTER UPDATE ON umk_users
        FOR EACH ROW
        WHEN ((OLD.status = 'active' AND OLD.role = 'admin')
          IS DISTINCT FROM (NEW.status = 'active' AND NEW.role = 'admin'))
        EXECUTE FUNCTION umk_count_users()
      """,
      "CREATE FUNCTION umk_forbid_delete() RETURNS trigger LANGUAGE plpgsql AS $$ "
        + "BEGIN RAISE EXCEPTION 'users are never deleted' USING ERRCODE = '23P01'; END $$",
      """
      CREATE TRIGGER umk_users_never_deleted BEFORE DELETE OR TRUNCATE ON umk_users
        FOR EACH STATEMENT EXECUTE FUNCTION umk_forbid_delete()
      """,
      // At commit, a directory with users has an active administrator. Every commit of the
      // store updates the directory row first, so these checks run one commit at a time.
      """
      CREATE FUNCTION umk_check_admins() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM umk_directory WHERE id = 1 AND user_count > 0
                   AND active_admins < 1) THEN
          RAISE EXCEPTION 'the directory must keep an active administrator'
            USING ERRCODE = '23514', CONSTRAINT = 'umk_last_active_administrator';
        END IF;
        RETURN NULL;
      END $$
      """,
      // The condition is evaluated at each update of the row and queues the check only when
      // that update leaves no active administrator; the check then runs at commit, against
      // the row as the transaction leaves it.
      """
      CREATE CONSTRAINT TRIGGER umk_last_active_administrator AFTER UPDATE ON umk_directory
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (NEW.user_count > 0 AND NEW.active_admins < 1)
        EXECUTE FUNCTION umk_check_admins()
      """,
    ]
  ]
}
