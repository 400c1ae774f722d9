// load_config: every variable, its default and precedence, and every error in its order.
#include <catch2/catch.hpp>

#include "ofwatchdog/config.hpp"

using namespace std::chrono_literals;
using ofwatchdog::Config;
using ofwatchdog::ConfigResult;
using ofwatchdog::Duration;
using ofwatchdog::LogFormat;
using Env = std::vector<std::string>;

namespace {

Config ok(const Env& env) {
  ConfigResult r = ofwatchdog::load_config(env);
  INFO("error: " << (r.ok() ? "" : r.error().message));
  REQUIRE(r.ok());
  return r.config();
}

ofwatchdog::ConfigError fails(const Env& env) {
  ConfigResult r = ofwatchdog::load_config(env);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("defaults", "[config]") {
  Config c = ok({"fprocess=cat"});
  CHECK(c.mode == "streaming");
  CHECK(c.fprocess == "cat");
  CHECK(c.fprocess_argv == std::vector<std::string>{"cat"});
  CHECK(c.port == 8080);
  CHECK(c.metrics_port == 8081);
  CHECK(c.read_timeout == Duration(30s));
  CHECK(c.write_timeout == Duration(30s));
  CHECK(c.exec_timeout == Duration(30s));
  CHECK(c.healthcheck_interval == Duration(30s));
  CHECK(c.upstream_url.empty());
  CHECK_FALSE(c.http_buffer_req_body);
  CHECK(c.content_type == "application/octet-stream");
  CHECK(c.static_path == "/home/app/public");
  CHECK_FALSE(c.suppress_lock);
  CHECK(c.max_inflight == 0);
  CHECK(c.prefix_logs);
  CHECK(c.log_buffer_size == 65536);
  CHECK(c.ready_path.empty());
  CHECK_FALSE(c.log_callid);
  CHECK(c.wasm_root == "/wasm_root");
  CHECK(c.log_format == LogFormat::text);
  CHECK(c.tmpdir == "/tmp");
  CHECK(c.lock_file_path() == "/tmp/.lock");
  CHECK(c.environment == Env{"fprocess=cat"});
}

TEST_CASE("every mode is read by its exact name", "[config]") {
  CHECK(ok({"fprocess=cat", "mode=streaming"}).mode == "streaming");
  CHECK(ok({"fprocess=cat", "mode=serializing"}).mode == "serializing");
  CHECK(ok({"fprocess=cat", "mode=http", "upstream_url=http://127.0.0.1:5000"}).mode == "http");
  CHECK(ok({"mode=static"}).mode == "static");
  CHECK(ok({"mode=inproc"}).mode == "inproc");
  CHECK(ok({"mode=wasm", "fprocess=echo.wasm"}).mode == "wasm");
  CHECK(ok({"fprocess=cat", "mode="}).mode == "streaming");
}

TEST_CASE("the environment: names are case-sensitive and the last entry wins", "[config]") {
  Config c = ok({"fprocess=a", "PORT=1", "Mode=http", "fprocess=b", "content_type=x=y"});
  CHECK(c.fprocess == "b");
  CHECK(c.port == 8080);
  CHECK(c.mode == "streaming");
  CHECK(c.content_type == "x=y"); // only the first '=' separates name and value
  // Functions inherit one entry per name, where its last occurrence was.
  CHECK(c.environment == Env{"PORT=1", "Mode=http", "fprocess=b", "content_type=x=y"});
}

TEST_CASE("bad environment entries are skipped with a warning", "[config]") {
  ConfigResult r = ofwatchdog::load_config({"NOEQUALS", "fprocess=cat", "=value", "", "A="});
  REQUIRE(r.ok());
  CHECK(r.warnings ==
        Env{"Bad environment: NOEQUALS", "Bad environment: =value", "Bad environment: "});
  CHECK(r.config().environment == Env{"fprocess=cat", "A="});
  CHECK(ofwatchdog::load_config({"fprocess=cat"}).warnings.empty());
}

TEST_CASE("timeouts and their fallbacks", "[config]") {
  Config c = ok({"fprocess=cat", "read_timeout=10", "write_timeout=1m30s", "exec_timeout=-3s",
                 "healthcheck_interval=bogus"});
  CHECK(c.read_timeout == Duration(10s));
  CHECK(c.write_timeout == Duration(90s));
  CHECK(c.exec_timeout == Duration(-3s));
  // healthcheck_interval falls back to write_timeout as parsed.
  CHECK(c.healthcheck_interval == Duration(90s));

  c = ok({"fprocess=cat", "write_timeout=5"});
  CHECK(c.healthcheck_interval == Duration(5s));

  c = ok({"fprocess=cat", "write_timeout=bogus", "read_timeout=-5", "exec_timeout=5.5"});
  CHECK(c.write_timeout == Duration(30s));
  CHECK(c.healthcheck_interval == Duration(30s));
  CHECK(c.read_timeout == Duration(30s));
  CHECK(c.exec_timeout == Duration(30s));

  c = ok({"fprocess=cat", "read_timeout=", "exec_timeout= 5", "healthcheck_interval=250ms"});
  CHECK(c.read_timeout == Duration(30s));
  CHECK(c.exec_timeout == Duration(30s));
  CHECK(c.healthcheck_interval == Duration(250ms));

  // A negative write timeout is allowed, and so becomes the health interval.
  c = ok({"fprocess=cat", "write_timeout=-1s", "read_timeout=0", "exec_timeout=0s"});
  CHECK(c.write_timeout == Duration(-1s));
  CHECK(c.healthcheck_interval == Duration(-1s));
  CHECK(c.read_timeout == Duration(0s));
  CHECK(c.exec_timeout == Duration(0s));
}

TEST_CASE("strict booleans", "[config]") {
  CHECK(ok({"fprocess=cat", "suppress_lock=true"}).suppress_lock);
  CHECK(ok({"fprocess=cat", "suppress_lock=1"}).suppress_lock);
  CHECK_FALSE(ok({"fprocess=cat", "suppress_lock=True"}).suppress_lock);
  CHECK_FALSE(ok({"fprocess=cat", "suppress_lock=yes"}).suppress_lock);
  // Either name of the buffering switch turns it on.
  CHECK(ok({"fprocess=cat", "http_buffer_req_body=true"}).http_buffer_req_body);
  CHECK(ok({"fprocess=cat", "buffer_http=1"}).http_buffer_req_body);
  CHECK(
      ok({"fprocess=cat", "buffer_http=true", "http_buffer_req_body=false"}).http_buffer_req_body);
  CHECK(ok({"fprocess=cat", "buffer_http=no", "http_buffer_req_body=true"}).http_buffer_req_body);
  CHECK_FALSE(ok({"fprocess=cat", "buffer_http=t"}).http_buffer_req_body);
}

TEST_CASE("prefix_logs uses ParseBool and keeps true on junk", "[config]") {
  CHECK_FALSE(ok({"fprocess=cat", "prefix_logs=false"}).prefix_logs);
  CHECK_FALSE(ok({"fprocess=cat", "prefix_logs=0"}).prefix_logs);
  CHECK_FALSE(ok({"fprocess=cat", "prefix_logs=F"}).prefix_logs);
  CHECK(ok({"fprocess=cat", "prefix_logs=bogus"}).prefix_logs);
  CHECK(ok({"fprocess=cat", "prefix_logs="}).prefix_logs);
  CHECK(ok({"fprocess=cat", "prefix_logs=T"}).prefix_logs);
}

TEST_CASE("log_callid and its README spelling log_call_id", "[config]") {
  CHECK(ok({"fprocess=cat", "log_callid=1"}).log_callid);
  CHECK(ok({"fprocess=cat", "log_callid=true"}).log_callid);
  CHECK(ok({"fprocess=cat", "log_callid=t"}).log_callid);
  CHECK_FALSE(ok({"fprocess=cat", "log_callid=yes"}).log_callid);
  CHECK_FALSE(ok({"fprocess=cat", "log_callid=0"}).log_callid);
  CHECK(ok({"fprocess=cat", "log_call_id=1"}).log_callid);
  CHECK_FALSE(ok({"fprocess=cat", "log_callid=false", "log_call_id=true"}).log_callid);
  CHECK(ok({"fprocess=cat", "log_call_id=false", "log_callid=True"}).log_callid);
}

TEST_CASE("fprocess and function_process", "[config]") {
  Config c = ok({"function_process=python3 index.py", "fprocess=cat"});
  CHECK(c.fprocess == "python3 index.py");
  CHECK(c.fprocess_argv == std::vector<std::string>{"python3", "index.py"});
  CHECK(ok({"fprocess=cat", "function_process=wc -c"}).fprocess == "wc -c");
  c = ok({"fprocess=[\"sh\", \"-c\", \"echo a  b\"]"});
  CHECK(c.fprocess_argv == std::vector<std::string>{"sh", "-c", "echo a  b"});
  CHECK(ok({"fprocess=sh  -c"}).fprocess_argv == std::vector<std::string>{"sh", "", "-c"});
}

TEST_CASE("the upstream URL and its two names", "[config]") {
  CHECK(ok({"fprocess=cat", "upstream_url=http://a:1"}).upstream_url == "http://a:1");
  CHECK(ok({"fprocess=cat", "http_upstream_url=http://b:2", "upstream_url=http://a:1"})
            .upstream_url == "http://b:2");
  CHECK(ok({"fprocess=cat", "upstream_url=http://a:1", "http_upstream_url=http://b:2"})
            .upstream_url == "http://b:2");
  // Outside http mode the URL is not used, so it is not checked either.
  CHECK(ok({"fprocess=cat", "upstream_url=junk"}).upstream_url == "junk");
}

TEST_CASE("string values are taken verbatim", "[config]") {
  Config c = ok({"fprocess=cat", "content_type=", "static_path=./public", "ready_path=/r?x=1",
                 "wasm_root=/w"});
  CHECK(c.content_type.empty());
  CHECK(c.static_path == "./public");
  CHECK(c.ready_path == "/r?x=1");
  CHECK(c.wasm_root == "/w");
  CHECK(ok({"fprocess=cat", "content_type=text/plain; charset=utf-8"}).content_type ==
        "text/plain; charset=utf-8");
}

TEST_CASE("TMPDIR names the lock file's directory", "[config]") {
  CHECK(ok({"fprocess=cat", "TMPDIR=/var/tmp"}).lock_file_path() == "/var/tmp/.lock");
  CHECK(ok({"fprocess=cat", "TMPDIR=/var/tmp/"}).tmpdir == "/var/tmp");
  CHECK(ok({"fprocess=cat", "TMPDIR="}).tmpdir == "/tmp");
  CHECK(ok({"fprocess=cat", "TMPDIR=/"}).tmpdir == "/");
  CHECK(ok({"fprocess=cat", "TMPDIR=rel"}).tmpdir == "rel");
}

TEST_CASE("ports, metrics_port and max_inflight", "[config]") {
  Config c = ok({"fprocess=cat", "port=9000", "metrics_port=9001", "max_inflight=5"});
  CHECK(c.port == 9000);
  CHECK(c.metrics_port == 9001);
  CHECK(c.max_inflight == 5);
  c = ok({"fprocess=cat", "port=0", "metrics_port=0", "max_inflight=0"});
  CHECK(c.port == 0);
  CHECK(c.metrics_port == 0);
  CHECK(ok({"fprocess=cat", "port=+80"}).port == 80);
  CHECK(ok({"fprocess=cat", "port=65535"}).port == 65535);
  CHECK(ok({"fprocess=cat", "port=8081", "metrics_port=9000"}).port == 8081);
  CHECK(ok({"fprocess=cat", "metrics_port=8080", "port=0"}).metrics_port == 8080);
}

TEST_CASE("bad ports and limits stop start-up, naming the variable", "[config]") {
  for (const char* value :
       {"abc", "", " 80", "80 ", "8o", "1.5", "-1", "65536", "99999999999999"}) {
    INFO(value);
    auto e = fails({"fprocess=cat", std::string("port=") + value});
    CHECK(e.variable == "port");
    CHECK(e.exit_code == 1);
    CHECK(contains(e.message, "port"));
    CHECK(contains(e.message, std::string("\"").append(value).append("\"")));
  }
  auto e = fails({"fprocess=cat", "metrics_port=x"});
  CHECK(e.variable == "metrics_port");
  CHECK(e.message == "invalid value \"x\" for metrics_port: not a base-10 integer");
  e = fails({"fprocess=cat", "port=70000"});
  CHECK(e.message == "invalid value \"70000\" for port: a port must be from 0 to 65535");
  for (const char* value : {"x", "", "-1", "3000000000"}) {
    INFO(value);
    e = fails({"fprocess=cat", std::string("max_inflight=") + value});
    CHECK(e.variable == "max_inflight");
    CHECK(contains(e.message, "max_inflight"));
  }
  e = fails({"fprocess=cat", "port=8081"});
  CHECK(e.message == "port and metrics_port are both 8081: the metrics server needs a port of its "
                     "own");
  e = fails({"fprocess=cat", "port=9000", "metrics_port=9000"});
  CHECK(contains(e.message, "port and metrics_port are both 9000"));
}

TEST_CASE("log_format", "[config]") {
  CHECK(ok({"fprocess=cat", "log_format=json"}).log_format == LogFormat::json);
  CHECK(ok({"fprocess=cat", "log_format=text"}).log_format == LogFormat::text);
  CHECK(ok({"fprocess=cat", "log_format="}).log_format == LogFormat::text);
  auto e = fails({"fprocess=cat", "log_format=JSON"});
  CHECK(e.variable == "log_format");
  CHECK(e.message == "invalid value \"JSON\" for log_format: expected text or json");
}

TEST_CASE("log_buffer_size", "[config]") {
  CHECK(ok({"fprocess=cat", "log_buffer_size=100"}).log_buffer_size == 100);
  CHECK(ok({"fprocess=cat", "log_buffer_size=-1"}).log_buffer_size == -1);
  CHECK(ok({"fprocess=cat", "log_buffer_size=0"}).log_buffer_size == 0);
  auto e = fails({"fprocess=cat", "log_buffer_size=abc"});
  CHECK(e.variable == "log_buffer_size");
  CHECK(e.exit_code == 1);
  CHECK(e.message ==
        "invalid log_buffer_size value: abc, error: strconv.Atoi: parsing \"abc\": invalid syntax");
  CHECK(fails({"fprocess=cat", "log_buffer_size="}).message ==
        "invalid log_buffer_size value: , error: strconv.Atoi: parsing \"\": invalid syntax");
  CHECK(fails({"fprocess=cat", "log_buffer_size=64k"}).message ==
        "invalid log_buffer_size value: 64k, error: strconv.Atoi: parsing \"64k\": invalid syntax");
  CHECK(fails({"fprocess=cat", "log_buffer_size=99999999999999999999"}).message ==
        "invalid log_buffer_size value: 99999999999999999999, error: strconv.Atoi: parsing "
        "\"99999999999999999999\": value out of range");
}

TEST_CASE("a write timeout of exactly zero is refused", "[config]") {
  for (const char* value : {"0", "0s", "-0", "00", "0ms", "+0"}) {
    INFO(value);
    auto e = fails({"fprocess=cat", std::string("write_timeout=") + value});
    CHECK(e.variable == "write_timeout");
    CHECK(e.message == "HTTP write timeout must be over 0s");
  }
  // A value that does not parse falls back to 30s, which is fine.
  CHECK(ok({"fprocess=cat", "write_timeout=0x"}).write_timeout == Duration(30s));
}

TEST_CASE("unknown modes exit with status 2", "[config]") {
  for (const char* value : {"HTTP", "Streaming", "afterburn", "bogus", " http"}) {
    INFO(value);
    auto e = fails({"fprocess=cat", std::string("mode=") + value});
    CHECK(e.variable == "mode");
    CHECK(e.exit_code == 2);
    CHECK(contains(e.message, std::string("\"").append(value).append("\"")));
    CHECK(contains(e.message, "variable mode"));
  }
  CHECK(fails({"mode=HTTP"}).message ==
        "unknown watchdog mode \"HTTP\" in variable mode (expected one of streaming, serializing, "
        "http, static, inproc, wasm)");
}

TEST_CASE("fprocess is required except in static, inproc and wasm modes", "[config]") {
  const std::string kMessage =
      "provide a \"function_process\" or \"fprocess\" environmental variable for your function";
  for (const char* mode : {"mode=streaming", "mode=serializing", "mode=http", "mode="}) {
    INFO(mode);
    auto e = fails({mode, "upstream_url=http://127.0.0.1:5000"});
    CHECK(e.message == kMessage);
    CHECK(e.variable == "fprocess");
    CHECK(e.exit_code == 1);
  }
  CHECK(fails({"fprocess="}).message == kMessage);
  // function_process wins even when it is empty.
  auto e = fails({"fprocess=cat", "function_process="});
  CHECK(e.message == kMessage);
  CHECK(e.variable == "function_process");
  CHECK(ok({"mode=static"}).fprocess_argv.empty());
  // mode=wasm needs its module, and says so in its own words.
  auto wasm = fails({"mode=wasm"});
  CHECK(wasm.variable == "fprocess");
  CHECK(contains(wasm.message, "the module to run"));
}

TEST_CASE("mode=wasm's variables are checked at start-up, naming the variable", "[config]") {
  Env base = {"mode=wasm", "fprocess=echo.wasm"};
  auto with = [&](const std::string& entry) {
    Env env = base;
    env.push_back(entry);
    return env;
  };
  for (const char* bad : {"wasm_instances=0", "wasm_instances=65536", "wasm_instances=two",
                          "wasm_queue=-1", "wasm_max_memory=1000", "wasm_max_memory=5Gi",
                          "wasm_max_memory=12 MB", "wasm_engine=jit", "wasm_env=A=B"}) {
    INFO(bad);
    std::string entry = bad;
    auto e = fails(with(entry));
    CHECK(e.variable == entry.substr(0, entry.find('=')));
    CHECK(e.exit_code == 1);
  }
  for (const char* good : {"wasm_instances=1", "wasm_instances=65535", "wasm_queue=0",
                           "wasm_max_memory=65536", "wasm_max_memory=64Mi", "wasm_engine=aot",
                           "wasm_engine=auto", "wasm_engine=interpreter", "wasm_env=HOME, PATH"}) {
    INFO(good);
    CHECK(ok(with(good)).mode == "wasm");
  }
}

TEST_CASE("a malformed JSON fprocess is refused, naming the variable", "[config]") {
  auto e = fails({"fprocess=[\"sh\", -c]"});
  CHECK(e.variable == "fprocess");
  CHECK(e.message == "invalid value \"[\\\"sh\\\", -c]\" for fprocess: a value starting with '[' "
                     "must be a non-empty JSON array of strings");
  CHECK(fails({"function_process=[]", "mode=static"}).variable == "function_process");
}

TEST_CASE("http mode needs a valid upstream URL", "[config]") {
  const std::string kMessage =
      "For \"mode=http\" you must specify a valid URL for \"http_upstream_url\"";
  auto e = fails({"fprocess=cat", "mode=http"});
  CHECK(e.message == kMessage);
  CHECK(e.variable == "http_upstream_url");
  CHECK(e.exit_code == 1);
  CHECK(fails({"fprocess=cat", "mode=http", "upstream_url="}).message == kMessage);
  e = fails({"fprocess=cat", "mode=http", "upstream_url=localhost:5000"});
  CHECK(e.variable == "upstream_url");
  CHECK(e.message == kMessage + ", error: \"localhost:5000\" in upstream_url: the URL must start "
                                "with http://");
  e = fails({"fprocess=cat", "mode=http", "http_upstream_url=http://h:0", "upstream_url=http://x"});
  CHECK(e.variable == "http_upstream_url");
  CHECK(contains(e.message, "\"http://h:0\""));
}

TEST_CASE("static mode refuses an explicitly empty static_path", "[config]") {
  auto e = fails({"mode=static", "static_path="});
  CHECK(e.variable == "static_path");
  CHECK(e.message == "For mode=static you must specify the \"static_path\" to serve");
  CHECK(ok({"mode=static"}).static_path == "/home/app/public");
  CHECK(ok({"fprocess=cat", "static_path="}).static_path.empty());
}

TEST_CASE("the first failing check wins", "[config]") {
  // mode before everything.
  CHECK(fails({"mode=bogus", "port=x", "log_buffer_size=x", "write_timeout=0"}).variable == "mode");
  // port before metrics_port, max_inflight and the rest.
  CHECK(fails({"port=x", "metrics_port=x", "max_inflight=x", "log_buffer_size=x"}).variable ==
        "port");
  CHECK(fails({"metrics_port=x", "max_inflight=x"}).variable == "metrics_port");
  CHECK(fails({"max_inflight=x", "port=8081", "log_buffer_size=x"}).variable == "max_inflight");
  // The port clash before log_buffer_size.
  CHECK(fails({"port=8081", "log_buffer_size=x"}).variable == "metrics_port");
  // log_format before log_buffer_size.
  CHECK(fails({"log_format=x", "log_buffer_size=x"}).variable == "log_format");
  // log_buffer_size before the write timeout.
  CHECK(fails({"log_buffer_size=x", "write_timeout=0"}).variable == "log_buffer_size");
  // The write timeout before fprocess.
  CHECK(fails({"write_timeout=0"}).variable == "write_timeout");
  // fprocess before the upstream URL.
  CHECK(fails({"mode=http"}).variable == "fprocess");
  CHECK(fails({"mode=http", "fprocess=cat"}).variable == "http_upstream_url");
}

TEST_CASE("max_body_size: bytes, 0 or unset for no limit, a bad value stops start-up", "[config]") {
  CHECK(ok({"fprocess=cat"}).max_body_size == 0);
  CHECK(ok({"fprocess=cat", "max_body_size=0"}).max_body_size == 0);
  CHECK(ok({"fprocess=cat", "max_body_size=1048576"}).max_body_size == 1048576);
  CHECK(ok({"fprocess=cat", "max_body_size=+10"}).max_body_size == 10);
  CHECK(ok({"fprocess=cat", "max_body_size=9223372036854775807"}).max_body_size ==
        9223372036854775807ULL);
  for (const char* value : {"x", "", "-1", "1MB", "1.5", "99999999999999999999"}) {
    INFO(value);
    auto e = fails({"fprocess=cat", std::string("max_body_size=") + value});
    CHECK(e.variable == "max_body_size");
    CHECK(e.exit_code == 1);
    CHECK(e.message == "invalid value \"" + std::string(value) +
                           "\" for max_body_size: expected a whole number of bytes, 0 or more (0 "
                           "means no limit)");
  }
  // After max_inflight, before the port clash and log_buffer_size.
  CHECK(fails({"max_inflight=x", "max_body_size=x"}).variable == "max_inflight");
  CHECK(fails({"max_body_size=x", "port=8081", "log_buffer_size=x"}).variable == "max_body_size");
}

TEST_CASE("find_variable reads one variable by load_config's rule", "[config]") {
  using ofwatchdog::find_variable;
  Env env{"TMPDIR=/first", "TMPDIRX=/other", "EMPTY=", "TMPDIR=/last", "=stray", "NOEQUALS"};
  CHECK(find_variable(env, "TMPDIR") == "/last"); // the last occurrence wins
  CHECK(find_variable(env, "TMPDIRX") == "/other");
  CHECK(find_variable(env, "EMPTY") == "");           // set but empty
  CHECK_FALSE(find_variable(env, "TMP").has_value()); // a prefix is not a name
  CHECK_FALSE(find_variable(env, "NOEQUALS").has_value());
  CHECK_FALSE(find_variable(env, "MISSING").has_value());
  // The same value load_config takes for a variable set twice.
  Config config = ok({"fprocess=cat", "exec_timeout=1s", "exec_timeout=3s"});
  CHECK(config.exec_timeout == 3s);
  CHECK(find_variable({"exec_timeout=1s", "exec_timeout=3s"}, "exec_timeout") == "3s");
}

TEST_CASE("values the original ignores silently are ignored with a warning", "[config]") {
  ConfigResult r =
      ofwatchdog::load_config({"fprocess=cat", "read_timeout=abc", "exec_timeout=10x",
                               "write_timeout=", "suppress_lock=yes", "http_buffer_req_body=false",
                               "buffer_http=0", "prefix_logs=maybe", "log_callid=sure"});
  REQUIRE(r.ok());
  CHECK(r.config().read_timeout == Duration(30s));
  CHECK(r.config().exec_timeout == Duration(30s));
  CHECK_FALSE(r.config().suppress_lock);
  CHECK(r.config().prefix_logs);
  CHECK_FALSE(r.config().log_callid);
  CHECK(r.warnings ==
        Env{"Warning: ignoring read_timeout=\"abc\" (not a duration such as 30s, 1m30s or a "
            "number of seconds); using 30s",
            "Warning: ignoring exec_timeout=\"10x\" (not a duration such as 30s, 1m30s or a "
            "number of seconds); using 30s",
            "Warning: ignoring suppress_lock=\"yes\" (expected true or 1, or false or 0); using "
            "false",
            "Warning: ignoring prefix_logs=\"maybe\" (expected true or false); using true",
            "Warning: ignoring log_callid=\"sure\" (expected true or false); using false"});
  // Values that mean what they say warn about nothing.
  CHECK(ofwatchdog::load_config({"fprocess=cat", "read_timeout=5s", "suppress_lock=true",
                                 "buffer_http=false", "prefix_logs=F", "log_callid=1",
                                 "exec_timeout=0"})
            .warnings.empty());
}

TEST_CASE("jwt_auth=true needs the function's name and namespace", "[config]") {
  for (const char* on : {"jwt_auth=true", "jwt_auth=1"}) {
    auto e = fails({"fprocess=cat", on, "OPENFAAS_NAMESPACE=prod"});
    CHECK(e.variable == "OPENFAAS_NAME");
    CHECK(e.exit_code == 1);
    CHECK(contains(e.message, "OPENFAAS_NAME"));
  }
  ConfigResult r = ofwatchdog::load_config(
      {"fprocess=cat", "jwt_auth=true", "OPENFAAS_NAME=resize", "OPENFAAS_NAMESPACE=prod"});
  REQUIRE(r.ok());
  const Config::FunctionAuthentication& auth = r.config().jwt_auth;
  CHECK(auth.enabled);
  CHECK_FALSE(auth.debug);
  CHECK(auth.provider_url == "http://gateway.openfaas:8080");
  CHECK(auth.function_name == "resize");
  CHECK(auth.function_namespace == "prod");

  r = ofwatchdog::load_config({"fprocess=cat", "jwt_auth=true", "OPENFAAS_NAME=resize",
                               "OPENFAAS_NAMESPACE=prod", "jwt_auth_local=true",
                               "jwt_auth_debug=1"});
  REQUIRE(r.ok());
  CHECK(r.config().jwt_auth.provider_url == "http://127.0.0.1:8000");
  CHECK(r.config().jwt_auth.debug);
  r = ofwatchdog::load_config({"fprocess=cat", "jwt_auth=true", "OPENFAAS_NAME=resize",
                               "OPENFAAS_NAMESPACE=prod", "jwt_auth_local=true",
                               "jwt_auth_issuer_url=http://127.0.0.1:9/"});
  REQUIRE(r.ok());
  CHECK(r.config().jwt_auth.provider_url == "http://127.0.0.1:9/");

  auto e = fails({"fprocess=cat", "jwt_auth=true", "OPENFAAS_NAME=resize",
                  "OPENFAAS_NAMESPACE=prod", "jwt_auth_issuer_url=https://gw"});
  CHECK(e.variable == "jwt_auth_issuer_url");
}

TEST_CASE("jwt_auth's tuning alone is noted and changes nothing", "[config]") {
  ConfigResult r = ofwatchdog::load_config(
      {"fprocess=cat", "jwt_auth=false", "jwt_auth_debug=true", "jwt_auth_local=true"});
  REQUIRE(r.ok());
  CHECK_FALSE(r.config().jwt_auth.enabled);
  CHECK_FALSE(r.config().jwt_auth.debug);
  CHECK(r.warnings == Env{"Note: jwt_auth_debug=\"true\" has no effect while jwt_auth is off",
                          "Note: jwt_auth_local=\"true\" has no effect while jwt_auth is off"});
}

TEST_CASE("cgi_headers is a boolean of the streaming, serializing and wasm modes", "[config]") {
  CHECK_FALSE(ofwatchdog::load_config({"fprocess=cat"}).config().cgi_headers);
  for (const char* mode : {"mode=streaming", "mode=serializing", "mode=wasm"}) {
    ConfigResult r = ofwatchdog::load_config({"fprocess=cat", mode, "cgi_headers=true"});
    REQUIRE(r.ok());
    CHECK(r.config().cgi_headers);
  }
  CHECK(ofwatchdog::load_config({"fprocess=cat", "cgi_headers=1"}).config().cgi_headers);
  CHECK_FALSE(ofwatchdog::load_config({"fprocess=cat", "cgi_headers=false"}).config().cgi_headers);
  auto bad = fails({"fprocess=cat", "cgi_headers=yes"});
  CHECK(bad.variable == "cgi_headers");
  CHECK(bad.message == "invalid value \"yes\" for cgi_headers: expected true or false");
  auto wrong_mode =
      fails({"mode=http", "upstream_url=http://127.0.0.1:9", "fprocess=cat", "cgi_headers=true"});
  CHECK(wrong_mode.variable == "cgi_headers");
  CHECK(wrong_mode.message ==
        "cgi_headers=true applies to the streaming, serializing and wasm modes, not mode=http");
  // Off is fine in any mode.
  CHECK(ofwatchdog::load_config({"mode=static", "cgi_headers=false"}).ok());
}
