// The kernel of tests/gpu/run: C = A x B for square n x n matrices, one thread per element.
// Built to PTX with nvcc; the guest (tests/fixtures/wasm_mode/gpu_tool.c) loads it by name.
extern "C" __global__ void matrix_mul(const float* a, const float* b, float* c, int n) {
  int row = blockIdx.y * blockDim.y + threadIdx.y;
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= n || col >= n)
    return;
  float sum = 0;
  for (int k = 0; k < n; ++k)
    sum += a[row * n + k] * b[k * n + col];
  c[row * n + col] = sum;
}
