/* A C program using the installed accel: load a model, run it, print one number. */
#include <accel/accel.h>
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: consumer_c MODEL_DIR\n");
    return 2;
  }
  if (accel_api_version() != ACCEL_API_VERSION) {
    fprintf(stderr, "library API %d, header %d\n", accel_api_version(), ACCEL_API_VERSION);
    return 1;
  }
  accel_model* model = NULL;
  accel_status s = accel_model_load(argv[1], NULL, &model);
  if (s != ACCEL_OK) {
    fprintf(stderr, "load: %s: %s\n", accel_status_name(s), accel_last_error());
    return 1;
  }
  const int64_t shape[2] = {1, 4};
  const int64_t ids[4] = {1, 5, 7, 2};
  accel_tensor_view input = {"input_ids", ACCEL_DTYPE_I64, 2, shape, ids};
  accel_tensors* outputs = NULL;
  s = accel_model_run(model, &input, 1, &outputs);
  if (s != ACCEL_OK) {
    fprintf(stderr, "run: %s\n", accel_last_error());
    accel_model_free(model);
    return 1;
  }
  accel_tensor_view out;
  accel_tensors_find(outputs, "last_hidden_state", &out);
  printf("c consumer: %s last_hidden_state [%lld, %lld, %lld] first %.6f\n", accel_version(), (long long)out.shape[0],
         (long long)out.shape[1], (long long)out.shape[2], ((const float*)out.data)[0]);
  accel_tensors_free(outputs);
  accel_model_free(model);
  return 0;
}
