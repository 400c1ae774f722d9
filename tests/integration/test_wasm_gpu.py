"""mode=wasm's CUDA imports (docs/wasm-gpu.md) against the real binary and the test double of
the CUDA driver (tests/support/fake_cuda, named by wasm_cuda_driver): a C guest built with the
project's own header (tests/fixtures/wasm_mode/gpu_tool.c) runs kernels over HTTP on both
engines, hostile calls get CUDA error codes, and nothing stays allocated on the driver after a
request. The double keeps a state file of its live allocations (FAKE_CUDA_STATE_FILE)."""

import glob
import os
import shutil

import pytest

import harness
from harness import request, wait_until

GPU_TOOL = os.path.join(harness.FIXTURES_BUILD, "wasm_mode", "gpu_tool.wasm")
FAKE_CUDA = os.path.join(os.environ.get("OFWATCHDOG_SUPPORT_BUILD", ""), "fake_cuda",
                         "libcuda.so.1")
# The static binary loads neither compiled modules nor a driver.
ENGINES = ["interpreter"] if harness.STATIC_BIN else ["aot", "interpreter"]
needs_driver = pytest.mark.skipif(bool(harness.STATIC_BIN),
                                  reason="the static binary loads no driver (docs/wasm-gpu.md)")

MATMUL_PTX = """.version 7.0
.target sm_52
.address_size 64
// C = A x B, n x n
.visible .entry matrix_mul(
  .param .u64 A, .param .u64 B, .param .u64 C,
  .param .u32 n)
{ ret; }
"""


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("wasm-gpu-cache"))


@pytest.fixture
def gpu(start_watchdog, tmp_path, cache_dir, request):
    """Starts the GPU guest on the engine the test is parametrized with."""
    root = tmp_path / "wasm_root"
    (root / "bin").mkdir(parents=True)
    shutil.copy(GPU_TOOL, root / "bin" / "gpu_tool.wasm")
    data = root / "data" / "gpu_tool.wasm"
    data.mkdir(parents=True)
    (data / "matmul.ptx").write_text(MATMUL_PTX)
    state = tmp_path / "fake-cuda-state"

    def start(engine, **env):
        settings = {"mode": "wasm", "fprocess": "gpu_tool.wasm", "wasm_root": str(root),
                    "wasm_cache": cache_dir, "wasm_engine": engine, "exec_timeout": "20s",
                    "wasm_cuda_driver": FAKE_CUDA, "FAKE_CUDA_STATE_FILE": str(state)}
        settings.update({k: str(v) for k, v in env.items()})
        wd = start_watchdog(settings)
        wd.state = state
        return wd
    return start


def act(wd, action):
    r = request(wd.port, "POST", "/", headers={"X-Action": action}, timeout=60)
    return r.status, r.body.decode()


def live_allocations(wd):
    try:
        with open(wd.state) as f:
            fields = dict(line.split() for line in f if line.strip())
    except FileNotFoundError:
        return None
    return int(fields["live_allocations"])


def nothing_left(wd):
    wait_until(lambda: live_allocations(wd) == 0, what="the instance's allocations freed")


@needs_driver
@pytest.mark.parametrize("engine", ENGINES)
def test_kernels_run_with_the_guests_own_addresses(gpu, engine):
    wd = gpu(engine, wasm_gpu_memory="64Mi")
    wd.wait_for_log(r"wasm: GPU: device 0 of 1, ofwatchdog fake CUDA device 0 \(256 MiB\)")
    status, text = act(wd, "info")
    assert status == 200
    assert text.splitlines() == ["cuInit=0", "devices=1", "name=ofwatchdog fake CUDA device 0",
                                 f"budget={64 << 20}"]
    assert act(wd, "vector_add:1000") == (200, "vector_add 1000 ok\n")
    nothing_left(wd)
    # The PTX comes from the module's data folder, through its sandbox.
    assert act(wd, "matmul:24") == (200, "matmul 24 ok\n")
    nothing_left(wd)


@needs_driver
@pytest.mark.parametrize("engine", ENGINES)
def test_hostile_calls_get_cuda_errors_and_the_watchdog_stays_up(gpu, engine):
    wd = gpu(engine)
    status, text = act(wd, "hostile")
    assert status == 200, text
    codes = dict(line.split("=") for line in text.splitlines())
    assert codes == {
        "copy_from_outside_memory": "1", "copy_past_allocation": "1", "forged_address": "1",
        "free": "0", "double_free": "1", "freed_address": "1", "over_the_cap": "2",
        "path_leaving_the_sandbox": "301", "missing_file": "301", "forged_module": "400",
        "params_outside_memory": "1", "forged_kernel_address": "1", "block_too_large": "1",
        "error_name": "1", "error_name_null": "1"}
    wd.wait_for_log(r"wasm: GPU: cuLaunchKernel: parameter 1 is 8 bytes wide and its value is "
                    r"not a device address of this guest")
    # What the guest left allocated and loaded went with its instance.
    nothing_left(wd)
    assert act(wd, "leak") == (200, "leaked\n")
    nothing_left(wd)
    assert act(wd, "vector_add:64") == (200, "vector_add 64 ok\n")


@needs_driver
@pytest.mark.parametrize("engine", ENGINES)
def test_a_guest_stopped_at_its_deadline_leaves_nothing_allocated(gpu, engine):
    wd = gpu(engine, exec_timeout="1s")
    status, _ = act(wd, "stuck")
    assert status == 504
    nothing_left(wd)
    assert act(wd, "vector_add:32") == (200, "vector_add 32 ok\n")
    nothing_left(wd)


def test_without_a_driver_the_guest_is_told_there_is_no_device(gpu):
    wd = gpu(ENGINES[-1], wasm_cuda_driver="/nonexistent/libcuda.so.1")
    # The static binary says the same for any library: it loads none.
    wd.wait_for_log(r"wasm: GPU: none \((cannot load /nonexistent/libcuda\.so\.1: .*|this "
                    r"static build cannot load the CUDA driver)\); GPU guests get "
                    r"CUDA_ERROR_NO_DEVICE")
    assert act(wd, "info") == (200, "cuInit=100\n")
    # The guest gives up (exit 1): the usual 500 of a failing module.
    assert act(wd, "vector_add:8")[0] == 500


@needs_driver
def test_a_stub_driver_answers_as_a_toolkits_stub_does(gpu):
    wd = gpu(ENGINES[-1], FAKE_CUDA_DEVICES="stub")
    wd.wait_for_log(r"wasm: GPU: none \(the CUDA driver answered .*34\); GPU guests get "
                    r"CUDA_ERROR_STUB_LIBRARY")
    assert act(wd, "info") == (200, "cuInit=34\n")


@needs_driver
def test_a_machine_without_a_device(gpu):
    wd = gpu(ENGINES[-1], FAKE_CUDA_DEVICES="0")
    assert act(wd, "info") == (200, "cuInit=100\n")


TOOLKIT_STUBS = sorted(glob.glob("/usr/local/cuda*/lib*/stubs/libcuda.so"))


@needs_driver
@pytest.mark.skipif(not TOOLKIT_STUBS, reason="no CUDA toolkit with its stub libcuda.so here")
def test_a_cuda_toolkits_own_stub_library_gives_its_code(gpu):
    wd = gpu(ENGINES[-1], wasm_cuda_driver=TOOLKIT_STUBS[-1])
    wd.wait_for_log(r"wasm: GPU: none \(the CUDA driver answered .*34\)")
    assert act(wd, "info") == (200, "cuInit=34\n")
