#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

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
  REQUIRE(lock.remove().empty());
  REQUIRE_FALSE(lock.exists());
  std::string error = lock.remove();
  REQUIRE(error.find("remove " + lock.path() + ": ") == 0);
  REQUIRE(rmdir((dir + "/nested/deeper").c_str()) == 0);
  REQUIRE(rmdir((dir + "/nested").c_str()) == 0);
  REQUIRE(rmdir(dir.c_str()) == 0);
}

TEST_CASE("writing the lock fails with a message when the directory cannot be made") {
  LockFile lock("/proc/no-such-dir/.lock");
  REQUIRE_FALSE(lock.write().empty());
}
