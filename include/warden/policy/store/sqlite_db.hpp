#pragma once
// A thin RAII wrapper over one SQLite connection in WAL mode (state_dir/warden.db).
// Not thread-safe by itself: callers serialise access (each owner holds a mutex).
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace warden::policy::store {

class DbError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, double value);
  Statement& bind_null(int index);
  // Steps once: true while a row is available.
  bool step();
  void reset();  // ready to run again (bindings cleared)
  std::string text(int col) const;
  int64_t integer(int col) const;
  double real(int col) const;
  bool is_null(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  // Opens (creating the file and parent folder) with WAL, synchronous=NORMAL, busy timeout.
  // Throws DbError.
  explicit Database(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(std::string_view sql);  // throws DbError
  Statement prepare(std::string_view sql) { return Statement(db_, sql); }
  int64_t changes() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// Makes `path` exist as a regular file readable and writable by the owner only (0600),
// tightening an existing one, so SQLite (which gives its -wal/-shm files the database
// file's mode) never creates state others can read. Throws DbError on failure.
void prepare_private_file(const std::string& path);

// Creates every table the policy modules use (idempotent).
void ensure_schema(Database& db);

// state_dir/warden.db
std::string database_path(const std::string& state_dir);

}  // namespace warden::policy::store
