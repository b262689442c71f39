/*
 * The DDL below follows what PostfixAdmin 3.3's upgrade.php creates on each
 * engine (tests/fixtures/postfixadmin-3.3 holds PostfixAdmin's own dumps and
 * the tests compare against them): same tables, columns, types, defaults
 * and indexes, so a database made by postino is one PostfixAdmin's web UI
 * accepts as current.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

const char *const schema_core_tables[] = { "domain", "mailbox", "alias",
	"alias_domain", "quota2", "log", "domain_admins", NULL };

/* Every table PostfixAdmin 3.3 creates (for "is this database empty"). */
static const char *const pfa_tables[] = { "admin", "alias", "alias_domain",
	"config", "domain", "domain_admins", "fetchmail", "log", "mailbox",
	"quota", "quota2", "vacation", "vacation_notification", NULL };

#define SQLITE_DT(name) "`" name "` datetime NOT NULL DEFAULT '2000-01-01'"

static const char *const ddl_sqlite[] = {
	"CREATE TABLE config ("
	" `id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,"
	" `name` TEXT NOT NULL UNIQUE DEFAULT '',"
	" `value` TEXT NOT NULL DEFAULT '')",
	"CREATE TABLE admin ("
	" `username` varchar(255) NOT NULL,"
	" `password` varchar(255) NOT NULL,"
	" `superadmin` tinyint(1) NOT NULL DEFAULT '0',"
	" " SQLITE_DT("created") ", " SQLITE_DT(
	    "modified") ","
			" `active` tinyint(1) NOT NULL DEFAULT '1',"
			" `phone` varchar(30) NOT NULL DEFAULT '',"
			" `email_other` varchar(255) NOT NULL DEFAULT '',"
			" `token` varchar(255) NOT NULL DEFAULT '',"
			" " SQLITE_DT(
			    "token_validity") ","
					      " PRIMARY KEY (`username`))",
	"CREATE TABLE alias ("
	" `address` varchar(255) NOT NULL,"
	" `goto` text NOT NULL,"
	" `domain` varchar(255) NOT NULL,"
	" " SQLITE_DT("created") ", " SQLITE_DT(
	    "modified") ","
			" `active` tinyint(1) NOT NULL DEFAULT '1',"
			" PRIMARY KEY (`address`))",
	"CREATE TABLE alias_domain ("
	" `alias_domain` varchar(255) NOT NULL,"
	" `target_domain` varchar(255) NOT NULL,"
	" " SQLITE_DT("created") ", " SQLITE_DT(
	    "modified") ","
			" `active` tinyint(1) NOT NULL DEFAULT '1',"
			" PRIMARY KEY (`alias_domain`))",
	"CREATE TABLE domain ("
	" `domain` varchar(255) NOT NULL,"
	" `description` varchar(255) NOT NULL,"
	" `aliases` int(11) NOT NULL DEFAULT 0,"
	" `mailboxes` int(11) NOT NULL DEFAULT 0,"
	" `maxquota` bigint(20) NOT NULL DEFAULT 0,"
	" `quota` bigint(20) NOT NULL DEFAULT 0,"
	" `transport` varchar(255) NOT NULL,"
	" `backupmx` tinyint(1) NOT NULL DEFAULT '0',"
	" " SQLITE_DT("created") ", " SQLITE_DT(
	    "modified") ","
			" `active` tinyint(1) NOT NULL DEFAULT '1',"
			" `password_expiry` int DEFAULT 0,"
			" PRIMARY KEY (`domain`))",
	"CREATE TABLE domain_admins ("
	" `username` varchar(255) NOT NULL,"
	" `domain` varchar(255) NOT NULL,"
	" " SQLITE_DT("created") ","
				 " `active` tinyint(1) NOT NULL DEFAULT '1')",
	"CREATE TABLE fetchmail ("
	" `id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,"
	" `domain` varchar(255) DEFAULT '',"
	" `mailbox` varchar(255) NOT NULL,"
	" `src_server` varchar(255) NOT NULL,"
	" `src_auth` varchar(255) DEFAULT NULL,"
	" `src_user` varchar(255) NOT NULL,"
	" `src_password` varchar(255) NOT NULL,"
	" `src_folder` varchar(255) NOT NULL,"
	" `poll_time` int(11) NOT NULL DEFAULT '10',"
	" `fetchall` tinyint(1) NOT NULL DEFAULT '0',"
	" `keep` tinyint(1) NOT NULL DEFAULT '0',"
	" `protocol` text DEFAULT NULL,"
	" `usessl` tinyint(1) NOT NULL DEFAULT '0',"
	" `sslcertck` tinyint(1) NOT NULL DEFAULT '0',"
	" `sslcertpath` varchar(255) DEFAULT '',"
	" `sslfingerprint` varchar(255) DEFAULT '',"
	" `extra_options` text,"
	" `returned_text` text,"
	" `mda` varchar(255) NOT NULL,"
	" " SQLITE_DT("date") ", " SQLITE_DT(
	    "created") ","
		       " `modified` datetime NOT NULL DEFAULT "
		       "CURRENT_TIMESTAMP,"
		       " `active` tinyint(1) NOT NULL DEFAULT '0',"
		       " `src_port` int(11) NOT NULL DEFAULT 0)",
	"CREATE TABLE mailbox ("
	" `username` varchar(255) NOT NULL,"
	" `password` varchar(255) NOT NULL,"
	" `name` varchar(255) NOT NULL,"
	" `maildir` varchar(255) NOT NULL,"
	" `quota` bigint(20) NOT NULL DEFAULT 0,"
	" `local_part` varchar(255) NOT NULL,"
	" `domain` varchar(255) NOT NULL,"
	" " SQLITE_DT("created") ", " SQLITE_DT(
	    "modified") ","
			" `active` tinyint(1) NOT NULL DEFAULT '1',"
			" `phone` varchar(30) NOT NULL DEFAULT '',"
			" `email_other` varchar(255) NOT NULL DEFAULT '',"
			" `token` varchar(255) NOT NULL DEFAULT '',"
			" " SQLITE_DT("token_validity") ", " SQLITE_DT(
			    "password_expiry") ","
					       " PRIMARY KEY (`username`))",
	"CREATE TABLE quota ("
	" `username` varchar(255) NOT NULL,"
	" `path` varchar(100) NOT NULL,"
	" `current` bigint(20) NOT NULL DEFAULT 0,"
	" PRIMARY KEY (`username`, `path`))",
	"CREATE TABLE quota2 ("
	" `username` varchar(255) NOT NULL,"
	" `bytes` bigint(20) NOT NULL DEFAULT 0,"
	" `messages` int(11) NOT NULL DEFAULT 0,"
	" PRIMARY KEY (`username`))",
	"CREATE TABLE vacation ("
	" `email` varchar(255) NOT NULL,"
	" `subject` varchar(255) NOT NULL,"
	" `body` text NOT NULL,"
	" `activefrom` datetime NOT NULL DEFAULT '2000-01-01',"
	" `activeuntil` datetime NOT NULL DEFAULT '2038-01-18',"
	" `cache` text NOT NULL DEFAULT '',"
	" `domain` varchar(255) NOT NULL,"
	" `interval_time` int(11) NOT NULL DEFAULT 0,"
	" " SQLITE_DT("created") ","
				 " `modified` datetime NOT NULL DEFAULT "
				 "CURRENT_TIMESTAMP,"
				 " `active` tinyint(1) NOT NULL DEFAULT '1',"
				 " PRIMARY KEY (`email`))",
	"CREATE TABLE vacation_notification ("
	" `on_vacation` varchar(255) NOT NULL,"
	" `notified` varchar(255) NOT NULL,"
	" `notified_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,"
	" PRIMARY KEY (`on_vacation`, `notified`),"
	" CONSTRAINT `vacation_notification_pkey` FOREIGN KEY (`on_vacation`)"
	" REFERENCES `vacation` (`email`) ON DELETE CASCADE)",
	"CREATE TABLE log ("
	" `id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,"
	" " SQLITE_DT("timestamp") ","
				   " `username` varchar(255) NOT NULL,"
				   " `domain` varchar(255) NOT NULL,"
				   " `action` varchar(255) NOT NULL,"
				   " `data` text NOT NULL)",
	NULL
};

#define MY_DT(name) "`" name "` datetime NOT NULL DEFAULT '2000-01-01 00:00:00'"
#define MY_TABLE                                                               \
	" ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_general_ci"
#define MY_UTF8 " CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"

static const char *const ddl_mysql[] = {
	"CREATE TABLE `config` ("
	" `id` int(11) NOT NULL AUTO_INCREMENT,"
	" `name` varchar(20) NOT NULL DEFAULT '',"
	" `value` varchar(20) NOT NULL DEFAULT '',"
	" PRIMARY KEY (`id`), UNIQUE KEY `name` (`name`))" MY_TABLE
	" COMMENT='PostfixAdmin settings'",
	"CREATE TABLE `admin` ("
	" `username` varchar(255) NOT NULL,"
	" `password` varchar(255) NOT NULL,"
	" " MY_DT("created") ", " MY_DT(
	    "modified") ","
			" `active` tinyint(1) NOT NULL DEFAULT 1,"
			" `superadmin` tinyint(1) NOT NULL DEFAULT 0,"
			" `phone` varchar(30)" MY_UTF8 " NOT NULL DEFAULT '',"
			" `email_other` varchar(255)" MY_UTF8
			" NOT NULL DEFAULT '',"
			" `token` varchar(255)" MY_UTF8 " NOT NULL DEFAULT '',"
			" " MY_DT("token_validity") ","
						    " PRIMARY KEY "
						    "(`username`))" MY_TABLE
						    " COMMENT='Postfix Admin - "
						    "Virtual Admins'",
	"CREATE TABLE `alias` ("
	" `address` varchar(255) NOT NULL,"
	" `goto` text NOT NULL,"
	" `domain` varchar(255) NOT NULL,"
	" " MY_DT("created") ", " MY_DT(
	    "modified") ","
			" `active` tinyint(1) NOT NULL DEFAULT 1,"
			" PRIMARY KEY (`address`), KEY `domain` "
			"(`domain`))" MY_TABLE
			" COMMENT='Postfix Admin - Virtual Aliases'",
	"CREATE TABLE `alias_domain` ("
	" `alias_domain` varchar(255) NOT NULL DEFAULT '',"
	" `target_domain` varchar(255) NOT NULL DEFAULT '',"
	" " MY_DT("created") ", " MY_DT(
	    "modified") ","
			" `active` tinyint(1) NOT NULL DEFAULT 1,"
			" PRIMARY KEY (`alias_domain`), KEY `active` "
			"(`active`),"
			" KEY `target_domain` (`target_domain`))" MY_TABLE
			" COMMENT='Postfix Admin - Domain Aliases'",
	"CREATE TABLE `domain` ("
	" `domain` varchar(255) NOT NULL,"
	" `description` varchar(255)" MY_UTF8 " NOT NULL,"
	" `aliases` int(10) NOT NULL DEFAULT 0,"
	" `mailboxes` int(10) NOT NULL DEFAULT 0,"
	" `maxquota` bigint(20) NOT NULL DEFAULT 0,"
	" `quota` bigint(20) NOT NULL DEFAULT 0,"
	" `transport` varchar(255) NOT NULL,"
	" `backupmx` tinyint(1) NOT NULL DEFAULT 0,"
	" " MY_DT("created") ", " MY_DT(
	    "modified") ","
			" `active` tinyint(1) NOT NULL DEFAULT 1,"
			" `password_expiry` int(11) DEFAULT 0,"
			" PRIMARY KEY (`domain`))" MY_TABLE
			" COMMENT='Postfix Admin - Virtual Domains'",
	"CREATE TABLE `domain_admins` ("
	" `username` varchar(255) NOT NULL,"
	" `domain` varchar(255) NOT NULL,"
	" " MY_DT("created") ","
			     " `active` tinyint(1) NOT NULL DEFAULT 1,"
			     " `id` int(11) NOT NULL AUTO_INCREMENT,"
			     " PRIMARY KEY (`id`), KEY `username` "
			     "(`username`))" MY_TABLE
			     " COMMENT='Postfix Admin - Domain Admins'",
	"CREATE TABLE `fetchmail` ("
	" `id` int(11) unsigned NOT NULL AUTO_INCREMENT,"
	" `mailbox` varchar(255) NOT NULL,"
	" `src_server` varchar(255) NOT NULL,"
	" `src_auth` enum('password','kerberos_v5','kerberos','kerberos_v4',"
	"'gssapi','cram-md5','otp','ntlm','msn','ssh','any')" MY_UTF8
	" DEFAULT NULL,"
	" `src_user` varchar(255) NOT NULL,"
	" `src_password` varchar(255) NOT NULL,"
	" `src_folder` varchar(255) NOT NULL,"
	" `poll_time` int(11) unsigned NOT NULL DEFAULT 10,"
	" `fetchall` tinyint(1) unsigned NOT NULL DEFAULT 0,"
	" `keep` tinyint(1) unsigned NOT NULL DEFAULT 0,"
	" `protocol` enum('POP3','IMAP','POP2','ETRN','AUTO')" MY_UTF8
	" DEFAULT NULL,"
	" `usessl` tinyint(1) unsigned NOT NULL DEFAULT 0,"
	" `extra_options` text DEFAULT NULL,"
	" `returned_text` text DEFAULT NULL,"
	" `mda` varchar(255) NOT NULL,"
	" `date` timestamp NOT NULL DEFAULT '2000-01-01 00:00:00',"
	" `sslcertck` tinyint(1) NOT NULL DEFAULT 0,"
	" `sslcertpath` varchar(255)" MY_UTF8 " DEFAULT '',"
	" `sslfingerprint` varchar(255) DEFAULT '',"
	" `domain` varchar(255) DEFAULT '',"
	" `active` tinyint(1) NOT NULL DEFAULT 0,"
	" `created` timestamp NOT NULL DEFAULT '2000-01-01 00:00:00',"
	" `modified` timestamp NOT NULL DEFAULT current_timestamp(),"
	" `src_port` int(11) NOT NULL DEFAULT 0,"
	" PRIMARY KEY (`id`))" MY_TABLE,
	"CREATE TABLE `log` ("
	" " MY_DT(
	    "timestamp") ","
			 " `username` varchar(255) NOT NULL,"
			 " `domain` varchar(255) NOT NULL,"
			 " `action` varchar(255) NOT NULL,"
			 " `data` text NOT NULL,"
			 " `id` int(11) NOT NULL AUTO_INCREMENT,"
			 " PRIMARY KEY (`id`), KEY `timestamp` (`timestamp`),"
			 " KEY `domain_timestamp` (`domain`, "
			 "`timestamp`))" MY_TABLE
			 " COMMENT='Postfix Admin - Log'",
	"CREATE TABLE `mailbox` ("
	" `username` varchar(255) NOT NULL,"
	" `password` varchar(255) NOT NULL,"
	" `name` varchar(255)" MY_UTF8 " NOT NULL,"
	" `maildir` varchar(255) NOT NULL,"
	" `quota` bigint(20) NOT NULL DEFAULT 0,"
	" `local_part` varchar(255) NOT NULL,"
	" `domain` varchar(255) NOT NULL,"
	" " MY_DT("created") ", " MY_DT(
	    "modified") ","
			" `active` tinyint(1) NOT NULL DEFAULT 1,"
			" `phone` varchar(30)" MY_UTF8 " NOT NULL DEFAULT '',"
			" `email_other` varchar(255)" MY_UTF8
			" NOT NULL DEFAULT '',"
			" `token` varchar(255)" MY_UTF8 " NOT NULL DEFAULT '',"
			" " MY_DT("token_validity") ", " MY_DT(
			    "password_expiry") ","
					       " PRIMARY KEY (`username`), KEY "
					       "`domain` (`domain`))" MY_TABLE
					       " COMMENT='Postfix Admin - "
					       "Virtual Mailboxes'",
	"CREATE TABLE `quota` ("
	" `username` varchar(255) NOT NULL,"
	" `path` varchar(100) NOT NULL,"
	" `current` bigint(20) NOT NULL DEFAULT 0,"
	" PRIMARY KEY (`username`, `path`))" MY_TABLE,
	"CREATE TABLE `quota2` ("
	" `username` varchar(255) CHARACTER SET latin1 COLLATE"
	" latin1_general_ci NOT NULL,"
	" `bytes` bigint(20) NOT NULL DEFAULT 0,"
	" `messages` int(11) NOT NULL DEFAULT 0,"
	" PRIMARY KEY (`username`))"
	" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
	"CREATE TABLE `vacation` ("
	" `email` varchar(255) NOT NULL,"
	" `subject` varchar(255)" MY_UTF8 " NOT NULL,"
	" `body` text" MY_UTF8 " NOT NULL,"
	" `cache` text NOT NULL,"
	" `domain` varchar(255) NOT NULL,"
	" " MY_DT(
	    "created") ","
		       " `active` tinyint(1) NOT NULL DEFAULT 1,"
		       " `modified` timestamp NOT NULL DEFAULT "
		       "current_timestamp(),"
		       " `activefrom` timestamp NOT NULL DEFAULT '2000-01-01 "
		       "00:00:00',"
		       " `activeuntil` timestamp NOT NULL DEFAULT '2038-01-18 "
		       "00:00:00',"
		       " `interval_time` int(11) NOT NULL DEFAULT 0,"
		       " PRIMARY KEY (`email`), KEY `email` (`email`))" MY_TABLE
		       " COMMENT='Postfix Admin - Virtual Vacation'",
	"CREATE TABLE `vacation_notification` ("
	" `on_vacation` varchar(255) CHARACTER SET latin1 COLLATE"
	" latin1_general_ci NOT NULL,"
	" `notified` varchar(255) CHARACTER SET latin1 COLLATE"
	" latin1_general_ci NOT NULL DEFAULT '',"
	" `notified_at` timestamp NOT NULL DEFAULT current_timestamp(),"
	" PRIMARY KEY (`on_vacation`, `notified`),"
	" CONSTRAINT `vacation_notification_pkey` FOREIGN KEY (`on_vacation`)"
	" REFERENCES `vacation` (`email`) ON DELETE CASCADE)"
	" ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci"
	" COMMENT='Postfix Admin - Virtual Vacation Notifications'",
	NULL
};

#define PG_TS(name) name " timestamp with time zone DEFAULT now()"
#define PG_TS2000(name)                                                        \
	name " timestamp with time zone"                                       \
	     " DEFAULT '2000-01-01 00:00:00+00'"

static const char *const ddl_pgsql[] = {
	"CREATE FUNCTION merge_quota() RETURNS trigger LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  UPDATE quota SET current = NEW.current + current\n"
	"   WHERE username = NEW.username AND path = NEW.path;\n"
	"  IF found THEN RETURN NULL; END IF;\n"
	"  RETURN NEW;\n"
	"END;\n$$",
	/*
	 * Dovecot's dict-sql inserts increments; turn an INSERT on an existing
	 * row into an addition, as PostfixAdmin's trigger does.
	 */
	"CREATE FUNCTION merge_quota2() RETURNS trigger LANGUAGE plpgsql AS "
	"$$\n"
	"BEGIN\n"
	"  IF NEW.messages < 0 OR NEW.messages IS NULL THEN\n"
	"    IF NEW.messages IS NULL THEN NEW.messages = 0;\n"
	"    ELSE NEW.messages = -NEW.messages; END IF;\n"
	"    RETURN NEW;\n"
	"  END IF;\n"
	"  LOOP\n"
	"    UPDATE quota2 SET bytes = bytes + NEW.bytes,\n"
	"        messages = messages + NEW.messages\n"
	"     WHERE username = NEW.username;\n"
	"    IF found THEN RETURN NULL; END IF;\n"
	"    BEGIN\n"
	"      IF NEW.messages = 0 THEN\n"
	"        INSERT INTO quota2 (bytes, messages, username)\n"
	"          VALUES (NEW.bytes, NULL, NEW.username);\n"
	"      ELSE\n"
	"        INSERT INTO quota2 (bytes, messages, username)\n"
	"          VALUES (NEW.bytes, -NEW.messages, NEW.username);\n"
	"      END IF;\n"
	"      RETURN NULL;\n"
	"    EXCEPTION WHEN unique_violation THEN\n"
	"      NULL;\n"
	"    END;\n"
	"  END LOOP;\n"
	"END;\n$$",
	"CREATE TABLE config ("
	" id serial PRIMARY KEY,"
	" name varchar(20) NOT NULL UNIQUE,"
	" value varchar(20) NOT NULL)",
	"CREATE TABLE domain ("
	" domain varchar(255) NOT NULL CONSTRAINT domain_key PRIMARY KEY,"
	" description varchar(255) NOT NULL DEFAULT '',"
	" aliases integer NOT NULL DEFAULT 0,"
	" mailboxes integer NOT NULL DEFAULT 0,"
	" maxquota bigint NOT NULL DEFAULT 0,"
	" quota bigint NOT NULL DEFAULT 0,"
	" transport varchar(255) DEFAULT NULL,"
	" backupmx boolean NOT NULL DEFAULT false,"
	" " PG_TS("created") ", " PG_TS(
	    "modified") ","
			" active boolean NOT NULL DEFAULT true,"
			" password_expiry integer DEFAULT 0)",
	"COMMENT ON TABLE domain IS 'Postfix Admin - Virtual Domains'",
	"CREATE INDEX domain_domain_active ON domain (domain, active)",
	"CREATE TABLE admin ("
	" username varchar(255) NOT NULL CONSTRAINT admin_key PRIMARY KEY,"
	" password varchar(255) NOT NULL DEFAULT '',"
	" " PG_TS("created") ", " PG_TS(
	    "modified") ","
			" active boolean NOT NULL DEFAULT true,"
			" superadmin boolean NOT NULL DEFAULT false,"
			" phone varchar(30) NOT NULL DEFAULT '',"
			" email_other varchar(255) NOT NULL DEFAULT '',"
			" token varchar(255) NOT NULL DEFAULT '',"
			" " PG_TS2000("token_validity") ")",
	"COMMENT ON TABLE admin IS 'Postfix Admin - Virtual Admins'",
	"CREATE TABLE alias ("
	" address varchar(255) NOT NULL CONSTRAINT alias_key PRIMARY KEY,"
	" goto text NOT NULL,"
	" domain varchar(255) NOT NULL REFERENCES domain (domain),"
	" " PG_TS("created") ", " PG_TS(
	    "modified") ","
			" active boolean NOT NULL DEFAULT true)",
	"COMMENT ON TABLE alias IS 'Postfix Admin - Virtual Aliases'",
	"CREATE INDEX alias_address_active ON alias (address, active)",
	"CREATE INDEX alias_domain_idx ON alias (domain)",
	"CREATE TABLE alias_domain ("
	" alias_domain varchar(255) NOT NULL PRIMARY KEY"
	" REFERENCES domain (domain) ON DELETE CASCADE,"
	" target_domain varchar(255) NOT NULL"
	" REFERENCES domain (domain) ON DELETE CASCADE,"
	" " PG_TS("created") ", " PG_TS(
	    "modified") ","
			" active boolean NOT NULL DEFAULT true)",
	"COMMENT ON TABLE alias_domain IS 'Postfix Admin - Domain Aliases'",
	"CREATE INDEX alias_domain_active ON alias_domain (alias_domain, "
	"active)",
	"CREATE TABLE domain_admins ("
	" username varchar(255) NOT NULL,"
	" domain varchar(255) NOT NULL REFERENCES domain (domain),"
	" " PG_TS("created") ","
			     " active boolean NOT NULL DEFAULT true,"
			     " id serial PRIMARY KEY)",
	"COMMENT ON TABLE domain_admins IS 'Postfix Admin - Domain Admins'",
	"CREATE TABLE fetchmail ("
	" id serial PRIMARY KEY,"
	" mailbox varchar(255) NOT NULL DEFAULT '',"
	" src_server varchar(255) NOT NULL DEFAULT '',"
	" src_auth varchar(15) NOT NULL CHECK (src_auth IN ('password',"
	" 'kerberos_v5', 'kerberos', 'kerberos_v4', 'gssapi', 'cram-md5',"
	" 'otp', 'ntlm', 'msn', 'ssh', 'any')),"
	" src_user varchar(255) NOT NULL DEFAULT '',"
	" src_password varchar(255) NOT NULL DEFAULT '',"
	" src_folder varchar(255) NOT NULL DEFAULT '',"
	" poll_time integer NOT NULL DEFAULT 10,"
	" fetchall boolean NOT NULL DEFAULT false,"
	" keep boolean NOT NULL DEFAULT false,"
	" protocol varchar(15) NOT NULL CHECK (protocol IN ('POP3', 'IMAP',"
	" 'POP2', 'ETRN', 'AUTO')),"
	" extra_options text,"
	" returned_text text,"
	" mda varchar(255) NOT NULL DEFAULT '',"
	" " PG_TS(
	    "date") ","
		    " usessl boolean NOT NULL DEFAULT false,"
		    " sslcertck boolean NOT NULL DEFAULT false,"
		    " sslcertpath varchar(255) DEFAULT '',"
		    " sslfingerprint varchar(255) DEFAULT '',"
		    " domain varchar(255) DEFAULT '',"
		    " active boolean NOT NULL DEFAULT false,"
		    " " PG_TS2000("created") ", " PG_TS(
			"modified") ","
				    " src_port integer NOT NULL DEFAULT 0)",
	"CREATE TABLE log ("
	" " PG_TS("\"timestamp\"") ","
				   " username varchar(255) NOT NULL DEFAULT '',"
				   " domain varchar(255) NOT NULL DEFAULT '',"
				   " action varchar(255) NOT NULL DEFAULT '',"
				   " data text NOT NULL DEFAULT '',"
				   " id serial PRIMARY KEY)",
	"COMMENT ON TABLE log IS 'Postfix Admin - Log'",
	"CREATE INDEX log_domain_timestamp_idx ON log (domain, \"timestamp\")",
	"CREATE TABLE mailbox ("
	" username varchar(255) NOT NULL CONSTRAINT mailbox_key PRIMARY KEY,"
	" password varchar(255) NOT NULL DEFAULT '',"
	" name varchar(255) NOT NULL DEFAULT '',"
	" maildir varchar(255) NOT NULL DEFAULT '',"
	" quota bigint NOT NULL DEFAULT 0,"
	" " PG_TS("created") ", " PG_TS(
	    "modified") ","
			" active boolean NOT NULL DEFAULT true,"
			" domain varchar(255) REFERENCES domain (domain),"
			" local_part varchar(255) NOT NULL,"
			" phone varchar(30) NOT NULL DEFAULT '',"
			" email_other varchar(255) NOT NULL DEFAULT '',"
			" token varchar(255) NOT NULL DEFAULT '',"
			" " PG_TS2000("token_validity") ", " PG_TS2000(
			    "password_expiry") ")",
	"COMMENT ON TABLE mailbox IS 'Postfix Admin - Virtual Mailboxes'",
	"CREATE INDEX mailbox_domain_idx ON mailbox (domain)",
	"CREATE INDEX mailbox_username_active ON mailbox (username, active)",
	"CREATE TABLE quota ("
	" username varchar(255) NOT NULL,"
	" path varchar(100) NOT NULL,"
	" current bigint NOT NULL DEFAULT 0,"
	" PRIMARY KEY (username, path))",
	"CREATE TRIGGER mergequota BEFORE INSERT ON quota"
	" FOR EACH ROW EXECUTE FUNCTION merge_quota()",
	"CREATE TABLE quota2 ("
	" username varchar(100) NOT NULL PRIMARY KEY,"
	" bytes bigint NOT NULL DEFAULT 0,"
	" messages integer NOT NULL DEFAULT 0)",
	"CREATE TRIGGER mergequota2 BEFORE INSERT ON quota2"
	" FOR EACH ROW EXECUTE FUNCTION merge_quota2()",
	"CREATE TABLE vacation ("
	" email varchar(255) NOT NULL PRIMARY KEY,"
	" subject varchar(255) NOT NULL,"
	" body text NOT NULL DEFAULT '',"
	" " PG_TS(
	    "created") ","
		       " active boolean NOT NULL DEFAULT true,"
		       " domain varchar(255) REFERENCES domain (domain),"
		       " " PG_TS(
			   "modified") ","
				       " " PG_TS2000(
					   "activefrom") ","
							 " activeuntil "
							 "timestamp with time "
							 "zone"
							 " DEFAULT '2038-01-18 "
							 "00:00:00+00',"
							 " interval_time "
							 "integer NOT NULL "
							 "DEFAULT 0)",
	"CREATE INDEX vacation_email_active ON vacation (email, active)",
	"CREATE TABLE vacation_notification ("
	" on_vacation varchar(255) NOT NULL"
	" REFERENCES vacation (email) ON DELETE CASCADE,"
	" notified varchar(255) NOT NULL,"
	" notified_at timestamp with time zone NOT NULL DEFAULT now(),"
	" PRIMARY KEY (on_vacation, notified))",
	NULL
};

/*
 * postino's migrations, in order.  Each step is idempotent and additive.
 * A step lists per-engine statements; NULL means "nothing on this engine".
 */
struct step {
	const char *what;
	const char *probe_table; /* skip when this table exists */
	const char *probe_index; /* or this index exists (SQLite/PG/MySQL), */
				 /* or this "table.column" */
	const char *const *sqlite;
	const char *const *mysql;
	const char *const *pgsql;
};

static const char *const routes_sqlite[] = {
	"CREATE TABLE routes ("
	" `pattern` varchar(255) NOT NULL PRIMARY KEY,"
	" `transport` varchar(64) NOT NULL,"
	" `domain` varchar(255) NOT NULL,"
	" `list_address` varchar(255) DEFAULT NULL,"
	" `priority` smallint NOT NULL DEFAULT 50,"
	" `active` tinyint(1) NOT NULL DEFAULT '1',"
	" `created` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP)",
	"CREATE INDEX routes_domain_idx ON routes (domain)",
	"CREATE INDEX routes_list_address_idx ON routes (list_address)", NULL
};
static const char *const routes_mysql[] = {
	"CREATE TABLE `routes` ("
	" `pattern` varchar(255) NOT NULL,"
	" `transport` varchar(64) NOT NULL,"
	" `domain` varchar(255) NOT NULL,"
	" `list_address` varchar(255) DEFAULT NULL,"
	" `priority` smallint NOT NULL DEFAULT 50,"
	" `active` tinyint(1) NOT NULL DEFAULT 1,"
	" `created` timestamp NOT NULL DEFAULT current_timestamp(),"
	" PRIMARY KEY (`pattern`), KEY `routes_domain_idx` (`domain`),"
	" KEY `routes_list_address_idx` (`list_address`))" MY_TABLE
	" COMMENT='postino - transport routes (mailing lists)'",
	NULL
};
static const char *const routes_pgsql[] = {
	"CREATE TABLE routes ("
	" pattern varchar(255) NOT NULL PRIMARY KEY,"
	" transport varchar(64) NOT NULL,"
	" domain varchar(255) NOT NULL,"
	" list_address varchar(255) DEFAULT NULL,"
	" priority smallint NOT NULL DEFAULT 50,"
	" active boolean NOT NULL DEFAULT true,"
	" created timestamp with time zone NOT NULL DEFAULT now())",
	"CREATE INDEX routes_domain_idx ON routes (domain)",
	"CREATE INDEX routes_list_address_idx ON routes (list_address)", NULL
};

static const char *const version_sqlite[] = {
	"CREATE TABLE postino_schema_version ("
	" `id` integer NOT NULL PRIMARY KEY CHECK (id = 1),"
	" `version` integer NOT NULL,"
	" `applied_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP)",
	NULL
};
static const char *const version_mysql[] = {
	"CREATE TABLE `postino_schema_version` ("
	" `id` tinyint NOT NULL DEFAULT 1 CHECK (`id` = 1),"
	" `version` int NOT NULL,"
	" `applied_at` timestamp NOT NULL DEFAULT current_timestamp(),"
	" PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	NULL
};
static const char *const version_pgsql[] = {
	"CREATE TABLE postino_schema_version ("
	" id smallint NOT NULL PRIMARY KEY CHECK (id = 1),"
	" version integer NOT NULL,"
	" applied_at timestamp with time zone NOT NULL DEFAULT now())",
	NULL
};

/* A change counter every postino mutation bumps (podop's cache watch). */
static const char *const change_sqlite[] = {
	"CREATE TABLE postino_change ("
	" `id` integer NOT NULL PRIMARY KEY CHECK (id = 1),"
	" `serial` bigint NOT NULL DEFAULT 0)",
	"INSERT INTO postino_change (id, serial) VALUES (1, 0)", NULL
};
static const char *const change_mysql[] = {
	"CREATE TABLE `postino_change` ("
	" `id` tinyint NOT NULL DEFAULT 1 CHECK (`id` = 1),"
	" `serial` bigint NOT NULL DEFAULT 0,"
	" PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	"INSERT INTO postino_change (id, serial) VALUES (1, 0)", NULL
};
static const char *const change_pgsql[] = {
	"CREATE TABLE postino_change ("
	" id smallint NOT NULL PRIMARY KEY CHECK (id = 1),"
	" serial bigint NOT NULL DEFAULT 0)",
	"INSERT INTO postino_change (id, serial) VALUES (1, 0)", NULL
};

/* PostfixAdmin's SQLite schema has no secondary indexes; lookups need them. */
static const char *const index_sqlite[] = {
	"CREATE INDEX IF NOT EXISTS mailbox_domain_idx ON mailbox (domain)",
	"CREATE INDEX IF NOT EXISTS alias_domain_idx ON alias (domain)",
	"CREATE INDEX IF NOT EXISTS alias_domain_target_idx"
	" ON alias_domain (target_domain)",
	NULL
};

/* Per-domain settings PostfixAdmin has no column for (default quota). */
static const char *const domext_sqlite[] = {
	"CREATE TABLE postino_domain ("
	" `domain` varchar(255) NOT NULL PRIMARY KEY,"
	" `default_quota` bigint NOT NULL DEFAULT 0)",
	NULL
};
static const char *const domext_mysql[] = {
	"CREATE TABLE `postino_domain` ("
	" `domain` varchar(255) NOT NULL,"
	" `default_quota` bigint NOT NULL DEFAULT 0,"
	" PRIMARY KEY (`domain`))" MY_TABLE
	" COMMENT='postino - per-domain settings'",
	NULL
};
static const char *const domext_pgsql[] = {
	"CREATE TABLE postino_domain ("
	" domain varchar(255) NOT NULL PRIMARY KEY,"
	" default_quota bigint NOT NULL DEFAULT 0)",
	NULL
};

/* Zitadel webhook events already applied (postinod replicas share it). */
static const char *const event_sqlite[] = {
	"CREATE TABLE postino_event ("
	" `id` varchar(255) NOT NULL PRIMARY KEY,"
	" `received` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP)",
	"CREATE INDEX postino_event_received_idx ON postino_event (received)",
	NULL
};
static const char *const event_mysql[] = {
	"CREATE TABLE `postino_event` ("
	" `id` varchar(255) NOT NULL,"
	" `received` datetime NOT NULL DEFAULT current_timestamp(),"
	" PRIMARY KEY (`id`), KEY `postino_event_received_idx` "
	"(`received`))" MY_TABLE " COMMENT='postino - applied webhook events'",
	NULL
};
static const char *const event_pgsql[] = {
	"CREATE TABLE postino_event ("
	" id varchar(255) NOT NULL PRIMARY KEY,"
	" received timestamp with time zone NOT NULL DEFAULT now())",
	"CREATE INDEX postino_event_received_idx ON postino_event (received)",
	NULL
};

/* Who a mailbox is at an identity provider (identity.h). */
static const char *const identity_sqlite[] = {
	"CREATE TABLE postino_identity ("
	" `issuer` varchar(128) NOT NULL,"
	" `subject` varchar(255) NOT NULL,"
	" `username` varchar(255) NOT NULL,"
	" `given_name` varchar(255) DEFAULT NULL,"
	" `family_name` varchar(255) DEFAULT NULL,"
	" `created` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,"
	" PRIMARY KEY (`issuer`, `subject`))",
	"CREATE UNIQUE INDEX postino_identity_username_idx"
	" ON postino_identity (username, issuer)",
	NULL
};
static const char *const identity_mysql[] = {
	"CREATE TABLE `postino_identity` ("
	" `issuer` varchar(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
	" NOT NULL,"
	" `subject` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
	" NOT NULL,"
	" `username` varchar(255) NOT NULL,"
	" `given_name` varchar(255)" MY_UTF8 " DEFAULT NULL,"
	" `family_name` varchar(255)" MY_UTF8 " DEFAULT NULL,"
	" `created` datetime NOT NULL DEFAULT current_timestamp(),"
	" PRIMARY KEY (`issuer`, `subject`),"
	" UNIQUE KEY `postino_identity_username_idx` (`username`, "
	"`issuer`))" MY_TABLE " COMMENT='postino - identity provider subjects'",
	NULL
};
static const char *const identity_pgsql[] = {
	"CREATE TABLE postino_identity ("
	" issuer varchar(128) NOT NULL,"
	" subject varchar(255) NOT NULL,"
	" username varchar(255) NOT NULL,"
	" given_name varchar(255) DEFAULT NULL,"
	" family_name varchar(255) DEFAULT NULL,"
	" created timestamp with time zone NOT NULL DEFAULT now(),"
	" PRIMARY KEY (issuer, subject))",
	"CREATE UNIQUE INDEX postino_identity_username_idx"
	" ON postino_identity (username, issuer)",
	NULL
};

/*
 * postino_domain rows tied to the domain they were written for: a domain
 * PostfixAdmin deleted and created again has a new `created`, so the old
 * row no longer applies to it.
 */
static const char *const domtie_sqlite[] = {
	"ALTER TABLE postino_domain ADD COLUMN domain_created datetime NULL",
	"UPDATE postino_domain SET domain_created = (SELECT d.created FROM "
	"domain d WHERE d.domain = postino_domain.domain)",
	NULL
};
static const char *const domtie_mysql[] = {
	"ALTER TABLE `postino_domain` ADD COLUMN `domain_created` datetime "
	"NULL",
	"UPDATE postino_domain p JOIN domain d ON d.domain = p.domain SET "
	"p.domain_created = d.created",
	NULL
};
static const char *const domtie_pgsql[] = {
	"ALTER TABLE postino_domain ADD COLUMN domain_created timestamp with "
	"time zone NULL",
	"UPDATE postino_domain p SET domain_created = d.created FROM domain d "
	"WHERE d.domain = p.domain",
	NULL
};

/*
 * SCIM's "userName sw" is a code-point range (scim_filter.c), which
 * PostgreSQL serves from an index only in the "C" collation; the primary
 * keys are in the database's.  SQLite (BINARY) and MariaDB (LIKE on the
 * key) use the primary keys.  Plain expression indexes: PostfixAdmin's
 * writes and upgrades need nothing of postino for them.
 */
static const char *const scimidx_pgsql[] = {
	"CREATE INDEX IF NOT EXISTS postino_mailbox_username_c_idx"
	" ON mailbox ((username COLLATE \"C\"))",
	"CREATE INDEX IF NOT EXISTS postino_alias_address_c_idx"
	" ON alias ((address COLLATE \"C\"))",
	"CREATE INDEX IF NOT EXISTS postino_domain_domain_c_idx"
	" ON domain ((domain COLLATE \"C\"))",
	NULL
};

/*
 * SCIM's name.formatted / displayName (caseExact=false) compare the folded
 * name: on PostgreSQL lower(name) COLLATE "C", whose "sw" (LIKE 'p%') an
 * index on that expression serves as a range.  Not on the other engines:
 * SQLite folds with postino_fold(), a function only postino's connections
 * have (an index on it would make PostfixAdmin's writes to mailbox fail),
 * and MariaDB indexes an expression only through a generated column, a
 * change to PostfixAdmin's own table.
 */
static const char *const nameidx_pgsql[] = {
	"CREATE INDEX IF NOT EXISTS postino_mailbox_name_lower_c_idx"
	" ON mailbox ((lower(name) COLLATE \"C\"))",
	NULL
};

static const struct step steps[SCHEMA_POSTINO_VERSION] = {
	{ "routes table", "routes", NULL, routes_sqlite, routes_mysql,
	    routes_pgsql },
	{ "postino_schema_version table", "postino_schema_version", NULL,
	    version_sqlite, version_mysql, version_pgsql },
	{ "postino_change table", "postino_change", NULL, change_sqlite,
	    change_mysql, change_pgsql },
	{ "lookup indexes", NULL, "mailbox_domain_idx", index_sqlite, NULL,
	    NULL },
	{ "postino_domain table", "postino_domain", NULL, domext_sqlite,
	    domext_mysql, domext_pgsql },
	{ "postino_event table", "postino_event", NULL, event_sqlite,
	    event_mysql, event_pgsql },
	{ "postino_identity table", "postino_identity", NULL, identity_sqlite,
	    identity_mysql, identity_pgsql },
	{ "postino_domain tie to its domain", NULL,
	    "postino_domain.domain_created", domtie_sqlite, domtie_mysql,
	    domtie_pgsql },
	{ "SCIM prefix indexes", NULL, "postino_mailbox_username_c_idx", NULL,
	    NULL, scimidx_pgsql },
	{ "SCIM name prefix index", NULL, "postino_mailbox_name_lower_c_idx",
	    NULL, NULL, nameidx_pgsql },
};

static const char *const *
engine_ddl(const struct db *db)
{
	switch (db_engine(db)) {
	case DB_ENGINE_SQLITE:
		return ddl_sqlite;
	case DB_ENGINE_MYSQL:
		return ddl_mysql;
	default:
		return ddl_pgsql;
	}
}

static const char *const *
step_sql(const struct db *db, const struct step *s)
{
	switch (db_engine(db)) {
	case DB_ENGINE_SQLITE:
		return s->sqlite;
	case DB_ENGINE_MYSQL:
		return s->mysql;
	default:
		return s->pgsql;
	}
}

static int
index_exists(struct db *db, const char *name, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(name) };
	const char *sql;
	int64_t n;

	switch (db_engine(db)) {
	case DB_ENGINE_SQLITE:
		sql = "SELECT COUNT(*) FROM sqlite_master "
		      "WHERE type = 'index' AND name = ?";
		break;
	case DB_ENGINE_MYSQL:
		sql = "SELECT COUNT(*) FROM information_schema.statistics "
		      "WHERE table_schema = DATABASE() AND index_name = ?";
		break;
	default:
		sql = "SELECT COUNT(*) FROM pg_indexes "
		      "WHERE schemaname = current_schema() AND indexname = ?";
		break;
	}
	if (db_query_int(db, sql, a, DB_NARGS(a), &n, err) == -1)
		return -1;
	return n > 0;
}

int
schema_status(struct db *db, struct schema_status *st, struct err *err)
{
	int any = 0;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; pfa_tables[i] != NULL; i++) {
		int r = db_table_exists(db, pfa_tables[i], err);

		if (r == -1)
			return -1;
		any |= r;
	}
	st->empty = !any;
	for (size_t i = 0; schema_core_tables[i] != NULL; i++) {
		int r = db_table_exists(db, schema_core_tables[i], err);

		if (r == -1)
			return -1;
		if (r == 0) {
			size_t l = strlen(st->missing);

			snprintf(st->missing + l, sizeof(st->missing) - l,
			    "%s%s", l ? ", " : "", schema_core_tables[i]);
			st->missing_pfa++;
		}
	}
	switch (db_table_exists(db, "config", err)) {
	case -1:
		return -1;
	case 1: {
		char *v = NULL;
		struct db_arg a[] = { DB_TEXT("version") };

		if (db_query_value(db,
			"SELECT value FROM config WHERE name = ?", a,
			DB_NARGS(a), &v, err) == -1)
			return -1;
		if (v != NULL)
			str_copy(st->pfa_version, v, sizeof(st->pfa_version));
		free(v);
		break;
	}
	default:
		break;
	}
	switch (db_table_exists(db, "postino_schema_version", err)) {
	case -1:
		return -1;
	case 1: {
		int64_t v = 0;

		if (db_query_int(db,
			"SELECT version FROM postino_schema_version"
			" WHERE id = 1",
			NULL, 0, &v, err) == -1)
			return -1;
		st->postino_version = (int)v;
		break;
	}
	default:
		break;
	}
	return 0;
}

static int
run_list(struct db *db, const char *const *sqls, struct err *err)
{
	for (size_t i = 0; sqls != NULL && sqls[i] != NULL; i++)
		if (db_exec(db, sqls[i], NULL, 0, err) == -1)
			return -1;
	return 0;
}

static int
record_version(struct db *db, struct err *err)
{
	char now[32];
	struct db_arg up[] = { DB_INT(SCHEMA_POSTINO_VERSION),
		DB_TEXT(db_now(now, sizeof(now))) };
	int64_t n;

	n = db_exec(db,
	    "UPDATE postino_schema_version SET version = ?, "
	    "applied_at = ? WHERE id = 1",
	    up, DB_NARGS(up), err);
	if (n == -1)
		return -1;
	if (n == 0 &&
	    db_exec(db,
		"INSERT INTO postino_schema_version "
		"(id, version, applied_at) VALUES (1, ?, ?)",
		up, DB_NARGS(up), err) == -1)
		return -1;
	return 0;
}

static int
apply_steps(struct db *db, schema_report_fn *report, void *arg, struct err *err)
{
	for (size_t i = 0; i < SCHEMA_POSTINO_VERSION; i++) {
		const struct step *s = &steps[i];
		const char *const *sqls = step_sql(db, s);
		int have = 0;

		if (s->probe_table != NULL)
			have = db_table_exists(db, s->probe_table, err);
		else if (s->probe_index != NULL &&
		    strchr(s->probe_index, '.') != NULL) {
			char t[64];
			const char *dot = strchr(s->probe_index, '.');

			snprintf(t, sizeof(t), "%.*s",
			    (int)(dot - s->probe_index), s->probe_index);
			have = db_column_exists(db, t, dot + 1, err);
		} else if (s->probe_index != NULL)
			have = index_exists(db, s->probe_index, err);
		if (have == -1)
			return -1;
		if (have || sqls == NULL) {
			if (report != NULL)
				report(arg, s->what, false);
			continue;
		}
		/*
		 * DDL is transactional on SQLite and PostgreSQL; MariaDB
		 * commits implicitly, and every step is re-runnable anyway.
		 */
		if (db_begin(db, true, err) == -1)
			return -1;
		if (run_list(db, sqls, err) == -1) {
			db_rollback(db);
			return err_prefix(err, "cannot add %s", s->what);
		}
		if (db_commit(db, err) == -1)
			return -1;
		if (report != NULL)
			report(arg, s->what, true);
	}
	if (db_begin(db, true, err) == -1)
		return -1;
	if (record_version(db, err) == -1) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db, err);
}

static int
hint_grants(struct db *db, struct err *err)
{
	if (err->kind == ERR_DATABASE && err->hint[0] == '\0')
		err_hint(err,
		    "the database user in %s needs CREATE, ALTER and INDEX privileges to change the schema (grant them for the migration, then revoke)",
		    db->params.source != NULL ? db->params.source
					      : "the map file");
	return -1;
}

int
schema_init(struct db *db, schema_report_fn *report, void *arg, struct err *err)
{
	struct schema_status st;
	char now[32];

	if (schema_status(db, &st, err) == -1)
		return -1;
	if (!st.empty) {
		err_set(err, ERR_EXISTS,
		    "the database already holds a PostfixAdmin schema (%s)",
		    db_where(db));
		return err_hint(err,
		    "run 'postino schema migrate' to add what postino needs to an existing schema");
	}
	if (db_begin(db, true, err) == -1)
		return -1;
	if (run_list(db, engine_ddl(db), err) == -1) {
		db_rollback(db);
		err_prefix(err, "cannot create the PostfixAdmin schema");
		return hint_grants(db, err);
	}
	{
		struct db_arg a[] = { DB_TEXT("version"),
			DB_TEXT(SCHEMA_PFA_VERSION) };

		if (db_exec(db,
			"INSERT INTO config (name, value) VALUES (?, ?)", a,
			DB_NARGS(a), err) == -1) {
			db_rollback(db);
			return -1;
		}
	}
	(void)now;
	if (db_commit(db, err) == -1)
		return -1;
	if (report != NULL)
		report(arg, "PostfixAdmin " SCHEMA_PFA_VERSION " schema", true);
	if (apply_steps(db, report, arg, err) == -1)
		return hint_grants(db, err);
	return 0;
}

int
schema_migrate(
    struct db *db, schema_report_fn *report, void *arg, struct err *err)
{
	struct schema_status st;

	if (schema_status(db, &st, err) == -1)
		return -1;
	if (st.empty) {
		err_set(err, ERR_DATABASE, "no PostfixAdmin schema in %s",
		    db_where(db));
		return err_hint(err, "create it with 'postino schema init'");
	}
	if (st.missing_pfa > 0) {
		err_set(err, ERR_DATABASE,
		    "the PostfixAdmin schema in %s is incomplete: missing %s",
		    db_where(db), st.missing);
		return err_hint(err,
		    "run PostfixAdmin's setup.php upgrade first; postino never creates PostfixAdmin's own tables in an existing database");
	}
	if (apply_steps(db, report, arg, err) == -1)
		return hint_grants(db, err);
	return 0;
}

/* Bytes (Python postino) to PostfixAdmin megabytes, rounded up. */
static int64_t
bytes_to_pfa_mb(int64_t v)
{
	return v <= 0 ? v : (v + 1024000 - 1) / 1024000;
}

static int
repair_quotas(struct db *db, bool dry_run, schema_repair_fn *fn, void *arg,
    struct err *err)
{
	struct db_arg t[] = { DB_INT(SCHEMA_BYTE_QUOTA_MIN),
		DB_INT(SCHEMA_BYTE_QUOTA_MIN) };
	struct db_res *r;
	char **names = NULL;
	int64_t *mq = NULL, *tq = NULL;
	size_t n = 0;
	int rc;

	if (db_query(db,
		"SELECT domain, maxquota, quota FROM domain WHERE domain <> "
		"'ALL' AND (maxquota >= ? OR quota >= ?) ORDER BY domain",
		t, DB_NARGS(t), 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		names = xreallocarray(names, n + 1, sizeof(*names));
		mq = xreallocarray(mq, n + 1, sizeof(*mq));
		tq = xreallocarray(tq, n + 1, sizeof(*tq));
		names[n] = xstrdup(db_col(r, 0));
		mq[n] = db_col_int(r, 1, 0);
		tq[n] = db_col_int(r, 2, 0);
		n++;
	}
	db_res_free(&r);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		int64_t m2 = mq[i] >= SCHEMA_BYTE_QUOTA_MIN
		    ? bytes_to_pfa_mb(mq[i])
		    : mq[i];
		int64_t t2 = tq[i] >= SCHEMA_BYTE_QUOTA_MIN
		    ? bytes_to_pfa_mb(tq[i])
		    : tq[i];
		char detail[160];
		struct db_arg a[] = { DB_INT(m2), DB_INT(t2),
			DB_TEXT(names[i]) };

		snprintf(detail, sizeof(detail),
		    "maxquota %lld -> %lld MB, quota %lld -> %lld MB",
		    (long long)mq[i], (long long)m2, (long long)tq[i],
		    (long long)t2);
		if (fn != NULL)
			fn(arg, "quota", names[i], detail);
		if (!dry_run &&
		    db_exec(db,
			"UPDATE domain SET maxquota = ?, quota = ? WHERE "
			"domain = ?",
			a, DB_NARGS(a), err) == -1)
			rc = -1;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(mq);
	free(tq);
	return rc;
}

static int
repair_self_aliases(struct db *db, bool dry_run, schema_repair_fn *fn,
    void *arg, struct err *err)
{
	struct db_res *r;
	char **users = NULL, **doms = NULL;
	bool *act = NULL;
	size_t n = 0;
	char now[32];
	int rc;

	if (db_query(db,
		"SELECT m.username, m.domain, m.active FROM mailbox m WHERE "
		"NOT EXISTS (SELECT 1 FROM alias a WHERE a.address = "
		"m.username) ORDER BY m.username",
		NULL, 0, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		const char *v = db_col(r, 2);

		users = xreallocarray(users, n + 1, sizeof(*users));
		doms = xreallocarray(doms, n + 1, sizeof(*doms));
		act = xreallocarray(act, n + 1, sizeof(*act));
		users[n] = xstrdup(db_col(r, 0));
		doms[n] = xstrdup(db_col(r, 1) != NULL ? db_col(r, 1) : "");
		act[n] = v != NULL &&
		    (strcmp(v, "1") == 0 || strcmp(v, "t") == 0 ||
			strcmp(v, "true") == 0);
		n++;
	}
	db_res_free(&r);
	db_now(now, sizeof(now));
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct db_arg a[] = { DB_TEXT(users[i]), DB_TEXT(users[i]),
			DB_TEXT(doms[i]), DB_TEXT(now), DB_TEXT(now),
			DB_BOOL(act[i]) };

		if (fn != NULL)
			fn(arg, "self-alias", users[i], "add the missing row");
		if (!dry_run &&
		    db_exec(db,
			"INSERT INTO alias (address, goto, domain, created, "
			"modified, active) VALUES (?, ?, ?, ?, ?, ?)",
			a, DB_NARGS(a), err) == -1)
			rc = -1;
	}
	for (size_t i = 0; i < n; i++) {
		free(users[i]);
		free(doms[i]);
	}
	free(users);
	free(doms);
	free(act);
	return rc;
}

int
schema_repair(struct db *db, bool dry_run, schema_repair_fn *fn, void *arg,
    struct err *err)
{
	if (db_begin(db, true, err) == -1)
		return -1;
	if (repair_quotas(db, dry_run, fn, arg, err) == -1 ||
	    repair_self_aliases(db, dry_run, fn, arg, err) == -1) {
		db_rollback(db);
		return -1;
	}
	if (dry_run) {
		db_rollback(db);
		return 0;
	}
	return db_commit(db, err);
}
