// JNI entry points of org.solulens.cpu.NativeFloatExpSum and NativeExpSum: the exact sweep's float32 and double inner
// loops and the loss's softmax sums where the CPU has AVX2 and FMA (8 float or 4 double lanes, the Java Vector API's
// widths there), or 16 float and 8 double lanes where it also has AVX-512F. The Java side checks every index before it
// calls, and asks for the wider lanes only where widestLanes0 said so.
#include <jni.h>

#include <cstring>
#include <vector>

#include "loops.h"

namespace {

solulens::ExpConstants constants;
bool ready = false;
bool avx512 = false;   // whether the AVX-512 loops can run here (set by either init)
solulens::DoubleExpConstants doubleConstants;
bool doubleReady = false;

// The arrays a call reads in place (no copy), released on every path.
class Critical {
public:
    // written: whether the call writes the array (its changes are then committed on release)
    Critical(JNIEnv* env, jarray array, bool written = false) : env_(env), array_(array), written_(written) {
        data_ = array == nullptr ? nullptr : env->GetPrimitiveArrayCritical(array, nullptr);
    }
    ~Critical() {
        if (data_ != nullptr) {
            env_->ReleasePrimitiveArrayCritical(array_, data_, written_ ? 0 : JNI_ABORT);
        }
    }
    Critical(const Critical&) = delete;
    Critical& operator=(const Critical&) = delete;
    const float* floats() const { return static_cast<const float*>(data_); }
    const double* doubles() const { return static_cast<const double*>(data_); }
    float* writableFloats() const { return static_cast<float*>(data_); }
    bool failed() const { return array_ != nullptr && data_ == nullptr; }

private:
    JNIEnv* env_;
    jarray array_;
    bool written_;
    void* data_;
};

// Raises IllegalStateException in the calling Java thread (the native method then returns a value Java ignores). Only
// outside a critical region: no JNI call may run inside one.
void fail(JNIEnv* env, const char* why) {
    jclass type = env->FindClass("java/lang/IllegalStateException");
    if (type != nullptr) {
        env->ThrowNew(type, why);
    }
}

// Why the loops cannot run here (a CPU without AVX2 and FMA, a wrong number of constants), or null.
const char* cannotRun(JNIEnv* env, jarray constants, jsize expected) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        return "this CPU has no AVX2 and FMA";
    }
    return env->GetArrayLength(constants) == expected ? nullptr : "a wrong number of constants";
}

constexpr const char* NOT_READY = "the native sweep loop was not initialised, or the JVM could not give it its arrays";
// Whether a loop can run with this many lanes (narrow: AVX2's, wide: AVX-512's); raises IllegalStateException if not.
bool lanesOk(JNIEnv* env, jint lanes, jint narrow, jint wide) {
    if (lanes == narrow || (lanes == wide && avx512)) {
        return true;
    }
    fail(env, "the native loops run AVX2's lanes (8 float, 4 double), or AVX-512F's (16, 8) where the CPU has it");
    return false;
}

// One tile of the sweep; B is the array bArray, or (when that is null) the direct memory bDirect.
void sweepTile(JNIEnv* env, jint lanes, jfloatArray q, jfloatArray a, jfloatArray a2, jfloatArray bArray, const float* bDirect, jint vocab,
               jint q0, jint positions, jint n0, jint neurons, jint chunk, jdoubleArray dA, jdoubleArray dA2, jdoubleArray dB,
               jbooleanArray admitted, jdoubleArray sums) {
    if (!lanesOk(env, lanes, 8, 16)) {
        return;
    }
    int pairs = positions * neurons;
    std::vector<double> vA(pairs), vA2(pairs), vB(pairs), vSums(pairs);
    std::vector<jboolean> vAdmitted(pairs);
    env->GetDoubleArrayRegion(dA, 0, pairs, vA.data());
    env->GetDoubleArrayRegion(dA2, 0, pairs, vA2.data());
    env->GetDoubleArrayRegion(dB, 0, pairs, vB.data());
    env->GetDoubleArrayRegion(sums, 0, pairs, vSums.data());
    env->GetBooleanArrayRegion(admitted, 0, pairs, vAdmitted.data());
    bool ok = ready;
    if (ok) {
        Critical cq(env, q), ca(env, a), ca2(env, a2), cb(env, bArray);
        ok = !(cq.failed() || ca.failed() || ca2.failed() || cb.failed());
        if (ok) {
            solulens::Tile t{cq.floats(), ca.floats(), a2 == nullptr ? nullptr : ca2.floats(), bArray != nullptr ? cb.floats() : bDirect,
                             vocab, q0, positions, n0, neurons, chunk, vA.data(), vA2.data(), vB.data(),
                             reinterpret_cast<const uint8_t*>(vAdmitted.data()), vSums.data()};
            if (lanes == 16) {
                solulens::sweepTileAvx512(t, constants);
            } else {
                solulens::sweepTileAvx2(t, constants);
            }
        }
    }
    if (!ok) {
        fail(env, NOT_READY);
        return;
    }
    env->SetDoubleArrayRegion(sums, 0, pairs, vSums.data());
}

}  // namespace

extern "C" {

// Null when the loop can run here, else why not. constants: ROUND, LOG2E, then the coefficients of r^0 .. r^6.
JNIEXPORT jstring JNICALL Java_org_solulens_cpu_NativeFloatExpSum_init(JNIEnv* env, jclass, jfloatArray values) {
    constexpr int count = 2 + solulens::ExpConstants::degree + 1;
    if (const char* why = cannotRun(env, values, count)) {
        return env->NewStringUTF(why);
    }
    float v[count];
    env->GetFloatArrayRegion(values, 0, count, v);
    constants.round = v[0];
    constants.log2e = v[1];
    for (int i = 0; i <= solulens::ExpConstants::degree; i++) {
        constants.c[i] = v[2 + i];
    }
    avx512 = __builtin_cpu_supports("avx512f");
    ready = true;
    return nullptr;
}

// The most float lanes the loop can run here (16 with AVX-512F, else 8); call after init.
JNIEXPORT jint JNICALL Java_org_solulens_cpu_NativeFloatExpSum_widestLanes0(JNIEnv*, jclass) {
    return avx512 ? 16 : 8;
}

JNIEXPORT jdouble JNICALL Java_org_solulens_cpu_NativeFloatExpSum_sum0(JNIEnv* env, jclass, jint lanes, jfloatArray q, jint qo, jfloat da,
                                                                       jfloatArray a, jint ao, jfloat da2, jfloatArray a2, jint a2o,
                                                                       jfloat db, jfloatArray b, jint bo, jint n) {
    if (!lanesOk(env, lanes, 8, 16)) {
        return 0;
    }
    double result = 0;
    bool ok = ready;
    if (ok) {
        Critical cq(env, q), ca(env, a), ca2(env, a2), cb(env, b);
        ok = !(cq.failed() || ca.failed() || ca2.failed() || cb.failed());
        if (ok) {
            auto sum = lanes == 16 ? solulens::sumAvx512 : solulens::sumAvx2;
            result = sum(cq.floats() + qo, da, ca.floats() + ao, da2, a2 == nullptr ? nullptr : ca2.floats() + a2o, db, cb.floats() + bo, n,
                         constants);
        }
    }
    if (!ok) {
        fail(env, NOT_READY);
    }
    return result;
}

JNIEXPORT void JNICALL Java_org_solulens_cpu_NativeFloatExpSum_sweepTile0(JNIEnv* env, jclass, jint lanes, jfloatArray q, jfloatArray a,
                                                                              jfloatArray a2, jfloatArray b, jint vocab, jint q0,
                                                                              jint positions, jint n0, jint neurons, jint chunk,
                                                                              jdoubleArray dA, jdoubleArray dA2, jdoubleArray dB,
                                                                              jbooleanArray admitted, jdoubleArray sums) {
    sweepTile(env, lanes, q, a, a2, b, nullptr, vocab, q0, positions, n0, neurons, chunk, dA, dA2, dB, admitted, sums);
}

JNIEXPORT void JNICALL Java_org_solulens_cpu_NativeFloatExpSum_sweepTileMapped0(JNIEnv* env, jclass, jint lanes, jfloatArray q, jfloatArray a,
                                                                                    jfloatArray a2, jobject b, jint vocab, jint q0,
                                                                                    jint positions, jint n0, jint neurons, jint chunk,
                                                                                    jdoubleArray dA, jdoubleArray dA2, jdoubleArray dB,
                                                                                    jbooleanArray admitted, jdoubleArray sums) {
    const float* values = static_cast<const float*>(env->GetDirectBufferAddress(b));
    if (values == nullptr) {
        fail(env, "B is not a direct buffer");
        return;
    }
    sweepTile(env, lanes, q, a, a2, nullptr, values, vocab, q0, positions, n0, neurons, chunk, dA, dA2, dB, admitted, sums);
}

// Null when the double loops can run here, else why not. values: LOG2E, LN2_HI, LN2_LO, ROUND, LOW, HIGH, then the 14
// coefficients of DoubleExp.TAYLOR.
JNIEXPORT jstring JNICALL Java_org_solulens_cpu_NativeExpSum_init(JNIEnv* env, jclass, jdoubleArray values) {
    if (const char* why = cannotRun(env, values, 20)) {
        return env->NewStringUTF(why);
    }
    avx512 = __builtin_cpu_supports("avx512f");
    double v[20];
    env->GetDoubleArrayRegion(values, 0, 20, v);
    doubleConstants.log2e = v[0];
    doubleConstants.ln2hi = v[1];
    doubleConstants.ln2lo = v[2];
    doubleConstants.round = v[3];
    std::memcpy(&doubleConstants.roundBits, &v[3], 8);
    doubleConstants.low = v[4];
    doubleConstants.high = v[5];
    for (int i = 0; i < 14; i++) {
        doubleConstants.taylor[i] = v[6 + i];
    }
    doubleReady = true;
    return nullptr;
}

// The most double lanes the loops can run here (8 with AVX-512F, else 4); call after init.
JNIEXPORT jint JNICALL Java_org_solulens_cpu_NativeExpSum_widestLanes0(JNIEnv*, jclass) {
    return avx512 ? 8 : 4;
}

JNIEXPORT jdouble JNICALL Java_org_solulens_cpu_NativeExpSum_sum0(JNIEnv* env, jclass, jint lanes, jdouble alpha, jdoubleArray a,
                                                                  jdouble gamma, jdoubleArray a2, jint ao, jdouble delta, jfloatArray b,
                                                                  jint bo, jdoubleArray beta, jint v, jdouble shift) {
    if (!lanesOk(env, lanes, 4, 8)) {
        return 0;
    }
    double result = 0;
    bool ok = doubleReady;
    if (ok) {
        Critical ca(env, a), ca2(env, a2), cb(env, b), cbeta(env, beta);
        ok = !(ca.failed() || ca2.failed() || cb.failed() || cbeta.failed());
        if (ok) {
            auto sum = lanes == 8 ? solulens::expSumAvx512 : solulens::expSumAvx2;
            result = sum(alpha, ca.doubles() + ao, gamma, a2 == nullptr ? nullptr : ca2.doubles() + ao, delta,
                         b == nullptr ? nullptr : cb.floats() + bo, cbeta.doubles(), v, shift, doubleConstants);
        }
    }
    if (!ok) {
        fail(env, NOT_READY);
    }
    return result;
}

JNIEXPORT jdouble JNICALL Java_org_solulens_cpu_NativeExpSum_sumExp0(JNIEnv* env, jclass, jint lanes, jdoubleArray x, jint offset, jint n,
                                                                     jdouble shift) {
    if (!lanesOk(env, lanes, 4, 8)) {
        return 0;
    }
    double result = 0;
    bool ok = doubleReady;
    if (ok) {
        Critical cx(env, x);
        ok = !cx.failed();
        if (ok) {
            auto sumExp = lanes == 8 ? solulens::sumExpAvx512 : solulens::sumExpAvx2;
            result = sumExp(cx.doubles() + offset, n, shift, doubleConstants);
        }
    }
    if (!ok) {
        fail(env, NOT_READY);
    }
    return result;
}

JNIEXPORT void JNICALL Java_org_solulens_cpu_NativeExpSum_expInto0(JNIEnv* env, jclass, jint lanes, jdoubleArray x, jint offset, jint n,
                                                                   jdouble shift, jfloatArray out, jint outOffset) {
    if (!lanesOk(env, lanes, 4, 8)) {
        return;
    }
    bool ok = doubleReady;
    if (ok) {
        Critical cx(env, x), cout(env, out, true);
        ok = !(cx.failed() || cout.failed());
        if (ok) {
            auto expInto = lanes == 8 ? solulens::expIntoAvx512 : solulens::expIntoAvx2;
            expInto(cx.doubles() + offset, n, shift, cout.writableFloats() + outOffset, doubleConstants);
        }
    }
    if (!ok) {
        fail(env, NOT_READY);
    }
}

}  // extern "C"
