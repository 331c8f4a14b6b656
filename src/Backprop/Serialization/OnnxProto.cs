namespace Backprop;

/// <summary>
/// The field numbers and enum values of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto, proto2)
/// that the exporter writes, message by message. No generated code: <see cref="OnnxProtoMessage"/> writes the wire
/// format with these numbers.
/// </summary>
internal static class OnnxProto
{
    // message ModelProto
    public const int ModelIrVersion = 1;           // optional int64 ir_version = 1;
    public const int ModelProducerName = 2;        // optional string producer_name = 2;
    public const int ModelProducerVersion = 3;     // optional string producer_version = 3;
    public const int ModelDocString = 6;           // optional string doc_string = 6;
    public const int ModelGraph = 7;               // optional GraphProto graph = 7;
    public const int ModelOpsetImport = 8;         // repeated OperatorSetIdProto opset_import = 8;
    public const int ModelMetadataProps = 14;      // repeated StringStringEntryProto metadata_props = 14;

    // message OperatorSetIdProto
    public const int OpsetDomain = 1;              // optional string domain = 1;
    public const int OpsetVersion = 2;             // optional int64 version = 2;

    // message StringStringEntryProto
    public const int EntryKey = 1;                 // optional string key = 1;
    public const int EntryValue = 2;               // optional string value = 2;

    // message GraphProto
    public const int GraphNode = 1;                // repeated NodeProto node = 1;
    public const int GraphName = 2;                // optional string name = 2;
    public const int GraphInitializer = 5;         // repeated TensorProto initializer = 5;
    public const int GraphDocString = 10;          // optional string doc_string = 10;
    public const int GraphInput = 11;              // repeated ValueInfoProto input = 11;
    public const int GraphOutput = 12;             // repeated ValueInfoProto output = 12;

    // message NodeProto
    public const int NodeInput = 1;                // repeated string input = 1;
    public const int NodeOutput = 2;               // repeated string output = 2;
    public const int NodeName = 3;                 // optional string name = 3;
    public const int NodeOpType = 4;               // optional string op_type = 4;
    public const int NodeAttribute = 5;            // repeated AttributeProto attribute = 5;

    // message AttributeProto
    public const int AttributeName = 1;            // optional string name = 1;
    public const int AttributeFloat = 2;           // optional float f = 2;
    public const int AttributeInt = 3;             // optional int64 i = 3;
    public const int AttributeType = 20;           // optional AttributeType type = 20;
    public const int AttributeTypeFloat = 1;       // enum AttributeType { FLOAT = 1; ... }
    public const int AttributeTypeInt = 2;         // enum AttributeType { INT = 2; ... }

    // message TensorProto
    public const int TensorDims = 1;               // repeated int64 dims = 1;
    public const int TensorDataType = 2;           // optional int32 data_type = 2;
    public const int TensorName = 8;               // optional string name = 8;
    public const int TensorRawData = 9;            // optional bytes raw_data = 9; (fixed-width, little-endian)
    public const int DataTypeFloat = 1;            // enum DataType { FLOAT = 1; ... }
    public const int DataTypeInt64 = 7;            // enum DataType { ..., INT64 = 7; ... }

    // message ValueInfoProto
    public const int ValueInfoName = 1;            // optional string name = 1;
    public const int ValueInfoType = 2;            // optional TypeProto type = 2;

    // message TypeProto, and its nested message Tensor
    public const int TypeTensorType = 1;           // oneof value { Tensor tensor_type = 1; ... }
    public const int TypeTensorElemType = 1;       // Tensor: optional int32 elem_type = 1;
    public const int TypeTensorShape = 2;          // Tensor: optional TensorShapeProto shape = 2;

    // message TensorShapeProto, and its nested message Dimension
    public const int ShapeDim = 1;                 // repeated Dimension dim = 1;
    public const int DimensionValue = 1;           // Dimension: oneof value { int64 dim_value = 1;
    public const int DimensionParam = 2;           //                          string dim_param = 2; }
}
