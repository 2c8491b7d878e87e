"""Datasets (registered by name), their task descriptions and the shared DataModule."""
from graphformers.data.datamodule import GraphDataModule, data_root, load_split_dataset
from graphformers.data.ogb_graphs import ogbg_molhiv, ogbg_molpcba
from graphformers.data.peptides import peptides_func, peptides_struct
from graphformers.data.raw_files import MissingDataError
from graphformers.data.relay import relay
from graphformers.data.superpixels import coco_sp, pascalvoc_sp
from graphformers.data.task import SplitDataset, TaskInfo
from graphformers.data.zinc import zinc

__all__ = ["coco_sp", "GraphDataModule", "data_root", "load_split_dataset", "MissingDataError", "ogbg_molhiv", "ogbg_molpcba", "pascalvoc_sp", "peptides_func",
           "peptides_struct", "relay", "SplitDataset", "TaskInfo", "zinc"]
