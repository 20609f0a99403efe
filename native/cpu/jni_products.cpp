// JNI entry points of org.solulens.cpu.FloatWeightProduct. The Java side checks every size and index before it calls.
#include <jni.h>

#include <cstdlib>

#include "float_weight_product.h"

namespace {

// An array a call reads or writes in place, released on every path (no JNI call may run while it is held).
class Critical {
public:
    Critical(JNIEnv* env, jarray array) : env_(env), array_(array) {
        data_ = array == nullptr ? nullptr : env->GetPrimitiveArrayCritical(array, nullptr);
    }
    ~Critical() {
        if (data_ != nullptr) {
            env_->ReleasePrimitiveArrayCritical(array_, data_, 0);
        }
    }
    Critical(const Critical&) = delete;
    Critical& operator=(const Critical&) = delete;
    void* data() const { return data_; }

private:
    JNIEnv* env_;
    jarray array_;
    void* data_;
};

// Whether the CPU has AVX-512F (set by init0): the product may then run on 16-column panels.
bool avx512 = false;

}  // namespace

extern "C" {

// Null when the product can run here, else why not.
JNIEXPORT jstring JNICALL Java_org_solulens_cpu_FloatWeightProduct_init0(JNIEnv* env, jclass) {
    __builtin_cpu_init();
    avx512 = __builtin_cpu_supports("avx512f");
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? nullptr : env->NewStringUTF("this CPU has no AVX2 and FMA");
}

// The widest panels the kernel can run here: 16 columns with AVX-512F, else 8; after init0.
JNIEXPORT jint JNICALL Java_org_solulens_cpu_FloatWeightProduct_widestPanel0(JNIEnv*, jclass) {
    return avx512 ? 16 : 8;
}

// x packed for the kernel into fresh memory (freed by free0), or 0 when there is no memory for it.
JNIEXPORT jlong JNICALL Java_org_solulens_cpu_FloatWeightProduct_pack0(JNIEnv* env, jclass, jdoubleArray x, jint rows, jint inner) {
    size_t bytes = (size_t)solulens::packedRowsSize(rows, inner) * sizeof(double);
    double* packed = static_cast<double*>(std::aligned_alloc(32, (bytes + 31) / 32 * 32));
    if (packed == nullptr) {
        return 0;
    }
    Critical values(env, x);
    if (values.data() == nullptr) {
        std::free(packed);
        return 0;
    }
    solulens::packRows(static_cast<const double*>(values.data()), rows, inner, packed);
    return reinterpret_cast<jlong>(packed);
}

JNIEXPORT void JNICALL Java_org_solulens_cpu_FloatWeightProduct_free0(JNIEnv*, jclass, jlong packed) {
    std::free(reinterpret_cast<double*>(packed));
}

// Columns [0, cols) of the product from w's index wIndex on, into out at outIndex: a double[] or float[] (outArray), else
// a direct buffer; rowAbsMax (with float output only) gets each row's largest |value| over these columns; panel: the
// kernel's columns (16 only where widestPanel0 said so, else 8). 0 when done,
// 1 when an array or buffer could not be reached, 2 when there was no memory for the packed columns.
JNIEXPORT jint JNICALL Java_org_solulens_cpu_FloatWeightProduct_product0(JNIEnv* env, jclass, jlong packed, jint rows, jint inner,
                                                                            jobject w, jlong wIndex, jlong wStride, jint cols,
                                                                            jobject out, jboolean outArray, jboolean single,
                                                                            jlong outIndex, jlong outStride, jfloatArray rowAbsMax,
                                                                            jint panel) {
    const float* weights = static_cast<const float*>(env->GetDirectBufferAddress(w));
    void* direct = outArray ? nullptr : env->GetDirectBufferAddress(out);
    if (weights == nullptr || (!outArray && direct == nullptr)) {
        return 1;
    }
    Critical outValues(env, outArray ? static_cast<jarray>(out) : nullptr);
    Critical maxima(env, rowAbsMax);
    void* target = outArray ? outValues.data() : direct;
    if (target == nullptr || (rowAbsMax != nullptr && maxima.data() == nullptr)) {
        return 1;
    }
    double* outD = single ? nullptr : static_cast<double*>(target) + outIndex;
    float* outF = single ? static_cast<float*>(target) + outIndex : nullptr;
    auto product = panel == 16 && avx512 ? solulens::floatWeightProductAvx512 : solulens::floatWeightProductAvx2;
    return product(reinterpret_cast<const double*>(packed), rows, inner, weights + wIndex, wStride, cols, outD, outF, outStride,
                   static_cast<float*>(maxima.data()))
               ? 0
               : 2;
}

}  // extern "C"
