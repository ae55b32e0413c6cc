#pragma once
// A real PostgreSQL server for the database tests: Debian's binaries, a temporary data
// directory, loopback on a free port, trust authentication; started once per test binary
// and stopped at exit. As root (CI), initdb/postgres run as the `postgres` user.
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "test_util.h"

namespace accel::test {

class PgServer {
 public:
  // Starts the shared server on first use; returns "" with `why` set when it cannot.
  static PgServer* Get(std::string* why);
  // A fresh empty database on the server, as a postgres:// URL.
  std::string NewDatabaseUrl();
  void Stop();

 private:
  std::string bin_, data_dir_, socket_dir_, run_as_;
  int port_ = 0;
  int next_db_ = 0;
};

namespace pg_detail {

inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

inline std::string FindBinDir() {
  for (const char* v : {"17", "16", "15", "14", "13"}) {
    std::string dir = std::string("/usr/lib/postgresql/") + v + "/bin";
    if (std::filesystem::exists(dir + "/initdb") && std::filesystem::exists(dir + "/pg_ctl")) return dir;
  }
  return "";
}

inline PgServer* g_server = nullptr;

inline void StopAtExit() {
  if (pg_detail::g_server) pg_detail::g_server->Stop();
}

}  // namespace pg_detail

inline PgServer* PgServer::Get(std::string* why) {
  static bool tried = false;
  static std::string failure;
  if (tried) {
    if (!pg_detail::g_server && why) *why = failure;
    return pg_detail::g_server;
  }
  tried = true;
  auto server = new PgServer;
  server->bin_ = pg_detail::FindBinDir();
  if (server->bin_.empty()) {
    failure = "PostgreSQL server binaries not found under /usr/lib/postgresql (install Debian's postgresql)";
    if (why) *why = failure;
    return nullptr;
  }
  std::string root = MakeTempDir("pg");
  server->data_dir_ = root + "/data";
  server->socket_dir_ = root;
  if (geteuid() == 0) {
    if (!getpwnam("postgres")) {
      failure = "running as root and there is no postgres user to run the server as";
      if (why) *why = failure;
      return nullptr;
    }
    server->run_as_ = "runuser -u postgres -- ";
    std::string chown = "chown -R postgres " + root + " && chmod 755 " + root;
    if (std::system(chown.c_str()) != 0) {
      failure = "cannot hand " + root + " to the postgres user";
      if (why) *why = failure;
      return nullptr;
    }
  }
  server->port_ = pg_detail::FreePort();
  std::string initdb = server->run_as_ + server->bin_ + "/initdb -D " + server->data_dir_ +
                       " -A trust -U postgres --no-sync -E UTF8 > " + root + "/initdb.log 2>&1";
  if (std::system(initdb.c_str()) != 0) {
    failure = "initdb failed (see " + root + "/initdb.log)";
    if (why) *why = failure;
    return nullptr;
  }
  std::string start = server->run_as_ + server->bin_ + "/pg_ctl -D " + server->data_dir_ + " -l " + root +
                      "/server.log -w -t 60 -o \"-p " + std::to_string(server->port_) +
                      " -c listen_addresses=127.0.0.1 -k " + server->socket_dir_ +
                      " -c fsync=off -c full_page_writes=off\" start > /dev/null 2>&1";
  if (std::system(start.c_str()) != 0) {
    failure = "PostgreSQL did not start (see " + root + "/server.log)";
    if (why) *why = failure;
    return nullptr;
  }
  pg_detail::g_server = server;
  std::atexit(pg_detail::StopAtExit);
  return pg_detail::g_server;
}

inline std::string PgServer::NewDatabaseUrl() {
  std::string name = "accel_test_" + std::to_string(getpid()) + "_" + std::to_string(next_db_++);
  std::string cmd = bin_ + "/createdb -h 127.0.0.1 -p " + std::to_string(port_) + " -U postgres " + name;
  if (std::system(cmd.c_str()) != 0) return "";
  return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

inline void PgServer::Stop() {
  if (data_dir_.empty()) return;
  std::string stop = run_as_ + bin_ + "/pg_ctl -D " + data_dir_ + " -m immediate -w stop > /dev/null 2>&1";
  (void)std::system(stop.c_str());
  std::error_code ec;
  std::filesystem::remove_all(socket_dir_, ec);
  data_dir_.clear();
}

}  // namespace accel::test
