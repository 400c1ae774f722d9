#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <dirent.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "lifecycle/lock_file.hpp"

using ofwatchdog::lifecycle::LockFile;

namespace {
std::string temp_dir() {
  char pattern[] = "/tmp/lockfile-test-XXXXXX";
  REQUIRE(mkdtemp(pattern) != nullptr);
  return pattern;
}
} // namespace

TEST_CASE("the lock file is created with its directory, found, and removed") {
  std::string dir = temp_dir();
  LockFile lock(dir + "/nested/deeper/.lock");
  REQUIRE_FALSE(lock.exists());
  REQUIRE(lock.write().empty());
  REQUIRE(lock.exists());
  struct stat st;
  REQUIRE(stat(lock.path().c_str(), &st) == 0);
  REQUIRE(st.st_size == 0);
  REQUIRE((st.st_mode & 0007) == 0); // never world-accessible (0660 before umask)
  REQUIRE(lock.last_holder());
  REQUIRE(lock.release().empty());
  REQUIRE_FALSE(lock.exists());
  REQUIRE_FALSE(lock.last_holder());
  REQUIRE(lock.release().empty()); // nothing held any more: nothing to do
  REQUIRE(rmdir((dir + "/nested/deeper").c_str()) == 0);
  REQUIRE(rmdir((dir + "/nested").c_str()) == 0);
  REQUIRE(rmdir(dir.c_str()) == 0);
}

TEST_CASE("writing the lock fails with a message when the directory cannot be made") {
  LockFile lock("/proc/no-such-dir/.lock");
  REQUIRE_FALSE(lock.write().empty());
}

namespace {
// The names in `dir`, sorted.
std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  REQUIRE(d != nullptr);
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..")
      out.push_back(name);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// A pid no process has: a child that has been reaped.
long dead_pid() {
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0)
    _exit(0);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  return child;
}
} // namespace

TEST_CASE("watchdogs sharing the directory never turn each other unhealthy") {
  std::string dir = temp_dir();
  std::string path = dir + "/.lock";
  // Two live holders: this process and its parent, as two watchdogs would be.
  long first_id = getpid();
  long second_id = getppid();
  LockFile first(path, first_id);
  LockFile second(path, second_id);
  REQUIRE(first.write().empty());
  REQUIRE(second.write().empty());
  std::vector<std::string> expected{".lock", ".lock." + std::to_string(first_id),
                                    ".lock." + std::to_string(second_id)};
  std::sort(expected.begin(), expected.end());
  CHECK(names_in(dir) == expected);
  // Whichever stops first leaves the file to the other.
  CHECK_FALSE(first.last_holder());
  REQUIRE(first.release().empty());
  CHECK(second.exists());
  CHECK(second.last_holder());
  REQUIRE(second.release().empty());
  CHECK_FALSE(second.exists());
  CHECK(names_in(dir).empty());

  // The other order too.
  REQUIRE(first.write().empty());
  REQUIRE(second.write().empty());
  REQUIRE(second.release().empty());
  CHECK(first.exists());
  REQUIRE(first.release().empty());
  CHECK(names_in(dir).empty());
  REQUIRE(rmdir(dir.c_str()) == 0);
}

TEST_CASE("a lock file held by no live process is stale and replaced") {
  std::string dir = temp_dir();
  std::string path = dir + "/.lock";
  // A holder that died without releasing, and a bare file as the original writes it.
  LockFile crashed(path, dead_pid());
  REQUIRE(crashed.write().empty());
  struct stat before {};
  REQUIRE(stat(path.c_str(), &before) == 0);
  LockFile next(path);
  REQUIRE(next.write().empty());
  struct stat after {};
  REQUIRE(stat(path.c_str(), &after) == 0);
  CHECK(after.st_ino != before.st_ino); // a new file, not the dead holder's
  CHECK(names_in(dir) == std::vector<std::string>{".lock", ".lock." + std::to_string(getpid())});
  CHECK(next.last_holder());
  REQUIRE(next.release().empty());
  CHECK(names_in(dir).empty());

  // One that never wrote (a start that failed) releases nothing.
  REQUIRE(next.write().empty());
  LockFile failed(path, getppid());
  REQUIRE(failed.release().empty());
  CHECK(next.exists());
  REQUIRE(next.release().empty());
  REQUIRE(rmdir(dir.c_str()) == 0);
}
