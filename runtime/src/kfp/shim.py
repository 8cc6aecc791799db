# skiff's executor for KFP lightweight python components.
#
# skiff writes this file, then the component's own source, then one call to _skiff_kfp_run with a JSON
# configuration, as the `source` of an Argo script template. It stands in for `kfp.dsl.executor_main`,
# which the sandbox does not have: it installs small `kfp` and `kfp.dsl` modules that provide what
# component sources use, decodes the inputs from the environment and from files, calls the function, and
# writes every output to the file its template reads it from.
#
# Conventions, shared with skiff's translator (runtime/src/kfp):
# - an input parameter arrives in the environment variable the configuration names; a STRING is its raw
#   text, every other type its JSON text; the text __skiff_kfp_absent__ means "not given"; a list
#   collected from a loop (`collected`: how many loops deep) is a JSON list of such texts, each decoded
#   by `item_type`;
# - an input artifact lies at its `path`; its metadata (a JSON object) arrives in `metadata_env`;
# - an output parameter is written to its `path` (same encoding), an output artifact to its `path`
#   (a file or a directory), an artifact's metadata to `metadata_path`, and the metrics of a
#   system.Metrics artifact to `metrics_path` (a JSON object, name to number).
#
# Standard library only; written for CPython 3.11 up to 3.15. The function's own prints are the step's
# log and result: this file prints nothing. An exception raised by the function is not caught, so the
# traceback goes to stderr and the step fails.


def _skiff_kfp_setup():
    import inspect
    import json
    import os
    import sys
    import types
    import typing

    absent = "__skiff_kfp_absent__"

    # -- Artifact types, as kfp.dsl defines them ---------------------------------------------------

    class Artifact:
        schema_title = "system.Artifact"
        schema_version = "0.0.1"
        TYPE_NAME = "system.Artifact"

        def __init__(self, name=None, uri=None, metadata=None):
            self.name = name or ""
            self.uri = uri or ""
            self.metadata = dict(metadata or ())
            self._path = None

        @property
        def path(self):
            return self._path if self._path is not None else self.uri

        @path.setter
        def path(self, value):
            self._path = value

        def __repr__(self):
            return "%s(name=%r, uri=%r, metadata=%r)" % (
                type(self).__name__,
                self.name,
                self.uri,
                self.metadata,
            )

    class Dataset(Artifact):
        schema_title = TYPE_NAME = "system.Dataset"

    class Model(Artifact):
        schema_title = TYPE_NAME = "system.Model"

        @property
        def framework(self):
            return self.metadata.get("framework", "")

        @framework.setter
        def framework(self, value):
            self.metadata["framework"] = value

    class Metrics(Artifact):
        schema_title = TYPE_NAME = "system.Metrics"

        def log_metric(self, metric, value):
            self.metadata[metric] = value

    class ClassificationMetrics(Artifact):
        schema_title = TYPE_NAME = "system.ClassificationMetrics"

        def log_roc_data_point(self, fpr, tpr, threshold):
            point = dict(confidenceThreshold=threshold, falsePositiveRate=fpr, recall=tpr)
            self.metadata.setdefault("confidenceMetrics", []).append(point)

        def log_roc_curve(self, fpr, tpr, threshold):
            if not (len(fpr) == len(tpr) == len(threshold)):
                raise ValueError("log_roc_curve: fpr, tpr and threshold must have the same length")
            for f, t, c in zip(fpr, tpr, threshold):
                self.log_roc_data_point(fpr=f, tpr=t, threshold=c)

        def set_confusion_matrix_categories(self, categories):
            self._categories = list(categories)
            self._matrix = [[0] * len(self._categories) for _ in self._categories]
            self._store_matrix()

        def log_confusion_matrix_row(self, row_category, row):
            self._matrix[self._categories.index(row_category)] = list(row)
            self._store_matrix()

        def log_confusion_matrix_cell(self, row_category, col_category, value):
            row = self._categories.index(row_category)
            self._matrix[row][self._categories.index(col_category)] = value
            self._store_matrix()

        def log_confusion_matrix(self, categories, matrix):
            self.set_confusion_matrix_categories(categories)
            for category, row in zip(categories, matrix):
                self.log_confusion_matrix_row(category, row)

        def _store_matrix(self):
            self.metadata["confusionMatrix"] = dict(
                annotationSpecs=[dict(displayName=c) for c in self._categories],
                rows=[dict(row=list(r)) for r in self._matrix],
            )

    class SlicedClassificationMetrics(Artifact):
        schema_title = TYPE_NAME = "system.SlicedClassificationMetrics"

    class HTML(Artifact):
        schema_title = TYPE_NAME = "system.HTML"

    class Markdown(Artifact):
        schema_title = TYPE_NAME = "system.Markdown"

    artifact_classes = dict(
        (cls.schema_title, cls)
        for cls in (
            Artifact,
            Dataset,
            Model,
            Metrics,
            ClassificationMetrics,
            SlicedClassificationMetrics,
            HTML,
            Markdown,
        )
    )

    # -- Annotations ----------------------------------------------------------------------------

    class _Annotation:
        """What Input[T] and Output[T] stand for in a signature."""

        def __init__(self, direction, artifact_type):
            self.direction = direction
            self.artifact_type = artifact_type

        def __call__(self, *args, **kwargs):
            raise TypeError("Input[...] and Output[...] are annotations, not types")

        def __repr__(self):
            return "%s[%r]" % (self.direction, self.artifact_type)

    class Input:
        def __class_getitem__(cls, artifact_type):
            return _Annotation("Input", artifact_type)

    class Output:
        def __class_getitem__(cls, artifact_type):
            return _Annotation("Output", artifact_type)

    class InputPath:
        def __init__(self, type=None):
            self.type = type

        def __call__(self, *args, **kwargs):
            raise TypeError("InputPath(...) is an annotation, not a type")

    class OutputPath:
        def __init__(self, type=None):
            self.type = type

        def __call__(self, *args, **kwargs):
            raise TypeError("OutputPath(...) is an annotation, not a type")

    class PipelineTaskFinalStatus:
        def __init__(
            self,
            state="",
            pipeline_job_resource_name="",
            pipeline_task_name="",
            error_code=None,
            error_message=None,
        ):
            self.state = state
            self.pipeline_job_resource_name = pipeline_job_resource_name
            self.pipeline_task_name = pipeline_task_name
            self.error_code = error_code
            self.error_message = error_message

        def __repr__(self):
            return "PipelineTaskFinalStatus(state=%r, pipeline_task_name=%r)" % (
                self.state,
                self.pipeline_task_name,
            )

    def _decorator(func=None, **kwargs):
        if func is None:
            return lambda f: f
        return func

    # -- The fake kfp package ---------------------------------------------------------------------

    exported = dict(
        Artifact=Artifact,
        Dataset=Dataset,
        Model=Model,
        Metrics=Metrics,
        ClassificationMetrics=ClassificationMetrics,
        SlicedClassificationMetrics=SlicedClassificationMetrics,
        HTML=HTML,
        Markdown=Markdown,
        Input=Input,
        Output=Output,
        InputPath=InputPath,
        OutputPath=OutputPath,
        PipelineTaskFinalStatus=PipelineTaskFinalStatus,
        component=_decorator,
        container_component=_decorator,
        pipeline=_decorator,
    )

    def make_module(name, names):
        module = types.ModuleType(name)
        for key, value in names.items():
            setattr(module, key, value)
        module.__all__ = sorted(names)
        sys.modules[name] = module
        return module

    kfp = make_module("kfp", dict(__version__="2.0.0+skiff"))
    dsl = make_module("kfp.dsl", exported)
    dsl.types = make_module("kfp.dsl.types", dict(artifact_types=None))
    dsl.types.artifact_types = make_module("kfp.dsl.types.artifact_types", exported)
    components = make_module(
        "kfp.components", dict(InputPath=InputPath, OutputPath=OutputPath)
    )
    v2 = make_module("kfp.v2", dict(dsl=dsl))
    sys.modules["kfp.v2.dsl"] = dsl
    kfp.dsl = dsl
    kfp.components = components
    kfp.v2 = v2

    # CPython 3.15 dropped NamedTuple('Name', a=int); KFP sources write return types that way.
    original_named_tuple = typing.NamedTuple

    def NamedTuple(typename, fields=None, /, **kwargs):
        if fields is None and kwargs:
            fields, kwargs = list(kwargs.items()), {}
        if fields is None:
            fields = []
        return original_named_tuple(typename, fields, **kwargs)

    if hasattr(original_named_tuple, "__mro_entries__"):
        NamedTuple.__mro_entries__ = original_named_tuple.__mro_entries__
    typing.NamedTuple = NamedTuple

    # -- Values -----------------------------------------------------------------------------------

    def decode(text, kind):
        if kind == "STRING":
            return text
        if kind == "NUMBER_INTEGER":
            try:
                return int(text)
            except ValueError:
                number = float(text)
                if not number.is_integer():
                    raise ValueError("%r is not an integer" % text) from None
                return int(number)
        if kind == "NUMBER_DOUBLE":
            return float(text)
        if kind == "BOOLEAN":
            word = text.strip().lower()
            if word in ("true", "1"):
                return True
            if word in ("false", "0", ""):
                return False
            raise ValueError("%r is not a boolean" % text)
        if kind in ("LIST", "STRUCT"):
            return json.loads(text)
        if kind == "TASK_FINAL_STATUS":
            status = json.loads(text)
            state = str(status.get("state", ""))
            state = dict(Succeeded="SUCCEEDED", Failed="FAILED", Error="FAILED").get(
                state, state.upper()
            )
            return PipelineTaskFinalStatus(
                state=state,
                pipeline_job_resource_name=status.get("pipeline_job_resource_name", ""),
                pipeline_task_name=status.get("pipeline_task_name", ""),
                error_code=None if state == "SUCCEEDED" else 1,
                error_message=None
                if state == "SUCCEEDED"
                else "task %s ended %s" % (status.get("pipeline_task_name", ""), state),
            )
        try:
            return json.loads(text)
        except ValueError:
            return text

    def decode_collected(text, depth, kind):
        items = json.loads(text)
        if depth > 1:
            return [decode_collected(item, depth - 1, kind) for item in items]
        return [decode(item, kind) if isinstance(item, str) else item for item in items]

    def encode(value, kind):
        if kind == "STRING":
            return value if isinstance(value, str) else str(value)
        if kind == "NUMBER_INTEGER":
            return str(int(value))
        if kind == "NUMBER_DOUBLE":
            return json.dumps(float(value))
        if kind == "BOOLEAN":
            return "true" if value else "false"
        return json.dumps(value)

    def write(path, text):
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    def annotation_of(func, parameter):
        annotation = parameter.annotation
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, getattr(func, "__globals__", {}))
            except Exception:
                pass
        return annotation

    def artifact_class(annotation, schema_title):
        if isinstance(annotation, _Annotation) and isinstance(annotation.artifact_type, type):
            return annotation.artifact_type
        return artifact_classes.get(schema_title, Artifact)

    # -- One call ---------------------------------------------------------------------------------

    def run(namespace, config_text):
        config = json.loads(config_text)
        if "source" in config:
            exec(compile(config["source"], "<component>", "exec"), namespace)
        name = config["function"]
        func = namespace.get(name)
        if not callable(func):
            raise NameError("the component source defines no function %r" % name)
        parameters = inspect.signature(func).parameters
        annotations = dict((n, annotation_of(func, p)) for n, p in parameters.items())
        kwargs = {}

        for spec in config["inputs"]:
            key = spec["name"]
            if key not in parameters:
                continue
            if spec["kind"] == "parameter":
                text = os.environ.get(spec["env"])
                if text is None or text == absent:
                    continue
                if spec.get("collected"):
                    kwargs[key] = decode_collected(text, spec["collected"], spec["item_type"])
                else:
                    kwargs[key] = decode(text, spec["type"])
                continue
            path = spec["path"]
            if not os.path.exists(path) and spec.get("optional"):
                continue
            annotation = annotations[key]
            if isinstance(annotation, InputPath):
                kwargs[key] = path
                continue
            metadata = json.loads(os.environ.get(spec["metadata_env"]) or "{}")
            cls = artifact_class(annotation, spec.get("schema"))
            artifact = cls(name=key, uri=path, metadata=metadata)
            artifact.path = path
            kwargs[key] = artifact

        artifacts = {}
        returned = []
        for spec in config["outputs"]:
            key = spec["name"]
            if key not in parameters:
                returned.append(spec)
                continue
            path = spec["path"]
            parent = os.path.dirname(path)
            if parent:
                os.makedirs(parent, exist_ok=True)
            annotation = annotations[key]
            if spec["kind"] == "parameter" or isinstance(annotation, OutputPath):
                kwargs[key] = path
                continue
            cls = artifact_class(annotation, spec.get("schema"))
            artifact = cls(name=key, uri=path)
            artifact.path = path
            artifacts[key] = artifact
            kwargs[key] = artifact

        result = func(**kwargs)

        if returned:
            fields = getattr(result, "_fields", None)
            if fields is None:
                fields = getattr(inspect.signature(func).return_annotation, "_fields", None)
            values = {}
            if hasattr(result, "_asdict"):
                values = dict(result._asdict())
            elif len(returned) == 1:
                values = {returned[0]["name"]: result}
            elif fields and isinstance(result, (tuple, list)) and len(result) == len(fields):
                values = dict(zip(fields, result))
            for spec in returned:
                key = spec["name"]
                if key not in values or values[key] is None:
                    raise ValueError(
                        "%s() returned %r, which has no value for its output %r"
                        % (name, result, key)
                    )
                if spec["kind"] != "parameter":
                    raise TypeError(
                        "%s() returns the artifact %r: skiff does not support returning artifacts yet"
                        % (name, key)
                    )
                write(spec["path"], encode(values[key], spec["type"]))

        for spec in config["outputs"]:
            key = spec["name"]
            if spec["kind"] == "parameter":
                if key in parameters and os.path.exists(spec["path"]):
                    with open(spec["path"], encoding="utf-8") as f:
                        text = f.read()
                    if spec["type"] != "STRING":
                        write(spec["path"], encode(decode(text, spec["type"]), spec["type"]))
                continue
            artifact = artifacts.get(key)
            metadata = artifact.metadata if artifact is not None else {}
            write(spec["metadata_path"], json.dumps(metadata))
            if "metrics_path" in spec:
                numbers = dict(
                    (k, v)
                    for k, v in metadata.items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool)
                )
                write(spec["metrics_path"], json.dumps(numbers))
            is_metrics = spec.get("schema") in (
                "system.Metrics",
                "system.ClassificationMetrics",
                "system.SlicedClassificationMetrics",
            )
            if is_metrics and not os.path.exists(spec["path"]):
                write(spec["path"], json.dumps(metadata))

    return run


_skiff_kfp_run = _skiff_kfp_setup()
del _skiff_kfp_setup
