/* Loops for gcc to vectorize: VEX (-mavx2) and EVEX (-mavx512*, AVX512-FP16) code for the fixture. */
#include <stdint.h>
#include <math.h>
void f32(float *restrict a, const float *restrict b, const float *restrict c, int n) {
    for (int i = 0; i < n; i++) a[i] = a[i] * b[i] + c[i] / (b[i] + 1.0f);
}
void f64(double *restrict a, const double *restrict b, int n) {
    for (int i = 0; i < n; i++) a[i] = sqrt(fabs(b[i])) + (a[i] > b[i] ? a[i] : b[i]);
}
void i8(int8_t *restrict a, const int8_t *restrict b, int n) {
    for (int i = 0; i < n; i++) a[i] = (int8_t) (a[i] + b[i] * 3 - (a[i] >> 2));
}
void i16(int16_t *restrict a, const int16_t *restrict b, int n) {
    for (int i = 0; i < n; i++) a[i] = (int16_t) (a[i] * b[i] + (b[i] < 0 ? -b[i] : b[i]));
}
void i32(int32_t *restrict a, const int32_t *restrict b, const int32_t *restrict idx, int n) {
    for (int i = 0; i < n; i++) a[i] = b[idx[i]] * 7 + (a[i] << (b[i] & 7));
}
void i64(int64_t *restrict a, const int64_t *restrict b, int n) {
    for (int i = 0; i < n; i++) a[i] = a[i] * b[i] + (int64_t) (double) b[i] + (a[i] > 0 ? a[i] : -a[i]);
}
float conv(const int *restrict a, const double *restrict b, float *restrict c, int n) {
    float s = 0;
    for (int i = 0; i < n; i++) { c[i] = (float) a[i] + (float) b[i]; s += c[i]; }
    return s;
}
unsigned popc(const uint64_t *restrict a, int n) {
    unsigned s = 0;
    for (int i = 0; i < n; i++) s += __builtin_popcountll(a[i]) + __builtin_ctzll(a[i] | 1) + __builtin_clzll(a[i] | 1);
    return s;
}
void masked(float *restrict a, const float *restrict b, int n) {
    for (int i = 0; i < n; i++) if (b[i] > 0) a[i] = b[i] * 2.0f;
}
void u8minmax(uint8_t *restrict a, const uint8_t *restrict b, int n) {
    for (int i = 0; i < n; i++) a[i] = a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
}
static double tab[64];
double rip(int i, double x) { return tab[i & 63] * x + tab[(i + 1) & 63]; }
#ifdef FP16
void h16(_Float16 *restrict a, const _Float16 *restrict b, int n) {
    for (int i = 0; i < n; i++) a[i] = a[i] * b[i] + (_Float16) 1.5f / b[i];
}
_Float16 h16sum(const _Float16 *a, const float *f, int n) {
    _Float16 s = 0;
    for (int i = 0; i < n; i++) s += a[i] * (_Float16) f[i];
    return s;
}
#endif
